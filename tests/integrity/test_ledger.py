"""The ledger (账本) and ``dangan verify``: a clean instance passes, every tamper is caught and
named, the chain holds under concurrent writers, day roots are signed and witnessed."""

import datetime
import io
import json
import threading

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from dangan.catalogue.models import Record
from dangan.content.models import Blob
from dangan.content.services import add_files, fill_missing_sm3
from dangan.content.stores import get_store
from dangan.integrity import ledger
from dangan.integrity.models import DayRoot, LedgerEntry, LedgerHead, VerifyRun
from dangan.integrity.verify import verify


def jpeg(size=4096) -> bytes:
    import os

    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + os.urandom(size)


@pytest.fixture(autouse=True)
def places(settings, tmp_path):
    """Content, the signing key and the witness folder of each test in its own folder."""
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    settings.DANGAN_LEDGER_WITNESS_DIR = str(tmp_path / "witness")
    return tmp_path


@pytest.fixture
def filed(make_record, archivist):
    """Three records, the second with two pages, all in the ledger."""
    records = [make_record(actor=archivist) for _ in range(3)]
    add_files(
        actor=archivist,
        record=records[1],
        files=[("p1.jpg", io.BytesIO(jpeg())), ("p2.jpg", io.BytesIO(jpeg(300_000)))],
    )
    return records


def tomorrow():
    return timezone.localdate() + datetime.timedelta(days=1)


def run(**kwargs):
    report, _run = verify(seal=False, **kwargs)
    return report


def subjects(report, check=None):
    return {p["subject"] for p in report.problems if check in (None, p["check"])}


def messages(report):
    return " | ".join(f"{p['subject']}: {p['message']}" for p in report.problems)


def test_filing_and_content_write_the_ledger(filed):
    kinds = list(LedgerEntry.objects.values_list("kind", "subject"))
    assert [k for k in kinds if k[1].startswith("record:")] == [
        ("record.filed", f"record:{r.pk}") for r in filed
    ]
    assert [k for k, s in kinds if s.startswith("blob:")] == ["content.added"] * 2
    head = LedgerHead.objects.get(pk=1)
    last = LedgerEntry.objects.order_by("-seq").first()
    assert (head.seq, head.hash) == (last.seq, last.hash)


def test_a_clean_instance_passes(filed):
    report = run(sm3="all")
    assert report.passed, messages(report)
    assert report.counts["records"] == 3
    assert report.counts["blobs"] == 2
    assert report.counts["sm3"] == 0  # not computed yet: nothing to compare with
    assert report.counts["entries"] == LedgerEntry.objects.count()

    assert fill_missing_sm3() == 2  # what the queued task (or the fixity round) does
    entries = LedgerEntry.objects.filter(kind=ledger.CONTENT_SM3).values_list("subject", "digest")
    assert {subject: digest for subject, digest in entries} == {
        f"blob:{sha}": f"sha256:{sha} sm3:{sm3}"
        for sha, sm3 in Blob.objects.values_list("sha256", "sm3")
    }
    report = run(sm3="all")
    assert report.passed, messages(report)
    assert report.counts["sm3"] == 2


def test_an_sm3_edited_by_sql_after_it_was_computed_is_named(filed):
    fill_missing_sm3()
    blob = filed[1].pages.first().blob
    Blob.objects.filter(pk=blob.pk).update(sm3="0" * 64)
    report = run(sm3="none")
    assert subjects(report) == {f"record:{filed[1].pk}"}
    assert "differs from ledger entry" in messages(report)


def test_a_change_through_the_service_is_a_new_entry_and_passes(filed, archivist):
    from dangan.catalogue.services import update_record

    update_record(actor=archivist, record=filed[0], values={"title": "[改过的题名]"})
    entry = LedgerEntry.objects.order_by("-seq").first()
    assert (entry.kind, entry.subject) == ("record.changed", f"record:{filed[0].pk}")
    assert run().passed


def test_one_edit_of_fields_and_persons_is_one_entry_and_passes(filed, archivist):
    from dangan.catalogue.services import update_record
    from dangan.people.services import check_person, resolve_persons
    from tests.api.conftest import id_number

    person = resolve_persons(
        actor=archivist,
        entries=[check_person(id_number=id_number("32092519430401680"), name="罗凤秀")],
    ).popitem()[1]
    subject = f"record:{filed[0].pk}"
    before = LedgerEntry.objects.filter(subject=subject).count()
    update_record(
        actor=archivist, record=filed[0], values={"title": "[改过的题名]"}, persons=[person]
    )
    entries = LedgerEntry.objects.filter(subject=subject).order_by("seq")
    assert entries.count() == before + 1
    assert json.loads(entries.last().details)["persons"] == [[person.pk, "subject"]]
    # Persons alone, fields alone: one entry each; the same again: none.
    update_record(actor=archivist, record=filed[0], persons=[])
    update_record(actor=archivist, record=filed[0], values={"title": "[再改的题名]"})
    update_record(actor=archivist, record=filed[0], values={"title": "[再改的题名]"}, persons=[])
    assert entries.count() == before + 3
    report = run()
    assert report.passed, messages(report)


def test_a_rolled_back_filing_leaves_no_entry(make_record, archivist):
    before = LedgerEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        make_record(actor=archivist)
        assert LedgerEntry.objects.count() == before + 1
        raise RuntimeError("the clerk's transaction fails after filing")
    assert LedgerEntry.objects.count() == before
    assert LedgerHead.objects.get(pk=1).seq == before


def test_a_title_changed_by_sql_is_named(filed):
    Record.objects.filter(pk=filed[2].pk).update(title="[偷改的题名]")
    report = run()
    assert not report.passed
    assert subjects(report) == {f"record:{filed[2].pk}"}
    assert "title" in report.problems[0]["message"]
    # the security administrator is alerted, with a link to the integrity page
    from dangan.alerts.models import SecurityAlert

    alert = SecurityAlert.objects.get(kind="verification_failed", key="ledger")
    assert alert.is_open and alert.link == "/integrity/"


def test_one_byte_flipped_in_a_blob_is_named(filed):
    page = filed[1].pages.order_by("position").last()
    path = get_store().path(page.blob.key)
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[100_000] ^= 0x01
    path.write_bytes(bytes(data))
    report = run()
    assert subjects(report) == {f"record:{filed[1].pk}"}
    assert "bytes changed" in messages(report)


def test_a_deleted_blob_is_named(filed):
    page = filed[1].pages.order_by("position").first()
    get_store().path(page.blob.key).unlink()
    report = run()
    assert subjects(report) == {f"record:{filed[1].pk}"}
    assert "missing from the store" in messages(report)


def test_a_blob_row_edited_by_sql_is_named(filed):
    blob = filed[1].pages.first().blob
    Blob.objects.filter(pk=blob.pk).update(sm3="0" * 64)
    assert subjects(run(sm3="none")) == {f"record:{filed[1].pk}"}


def test_a_deleted_ledger_row_is_caught_and_the_record_named(filed):
    entry = LedgerEntry.objects.get(subject=f"record:{filed[0].pk}")
    LedgerEntry.objects.filter(pk=entry.pk).delete()
    report = run()
    assert f"record:{filed[0].pk}" in subjects(report)
    assert any(
        p["check"] == "chain" and f"#{entry.seq}" in p["message"] for p in report.problems
    ), messages(report)


def test_the_last_ledger_row_deleted_is_caught_by_the_head(filed):
    last = LedgerEntry.objects.order_by("-seq").first()
    LedgerEntry.objects.filter(pk=last.pk).delete()
    report = run()
    assert any(p["check"] == "chain" for p in report.problems), messages(report)


def test_an_altered_ledger_row_is_named(filed):
    entry = LedgerEntry.objects.get(subject=f"record:{filed[1].pk}")
    LedgerEntry.objects.filter(pk=entry.pk).update(details='{"state":"draft"}')
    report = run()
    assert f"record:{filed[1].pk}" in subjects(report, "chain")
    assert "altered" in messages(report)


def rewrite_chain(from_seq: int, change) -> None:
    """What an insider with the database would do: change an entry and re-hash every entry
    after it, head included, so that the chain itself is consistent again."""
    previous = LedgerEntry.objects.get(seq=from_seq - 1).hash if from_seq > 1 else ""
    for entry in LedgerEntry.objects.filter(seq__gte=from_seq).order_by("seq"):
        if entry.seq == from_seq:
            change(entry)
        entry.previous = previous
        at = entry.at.astimezone(datetime.UTC).strftime(ledger.AT_FORMAT)
        line = ledger.entry_line(
            entry.seq,
            previous,
            at,
            entry.day.isoformat(),
            entry.kind,
            entry.subject,
            entry.digest,
            entry.actor,
            entry.details,
        )
        entry.hash = previous = ledger.entry_hash(line)
        entry.save()
    LedgerHead.objects.filter(pk=1).update(hash=previous)


def test_a_rewritten_and_rehashed_chain_is_caught_by_the_witnessed_day_root(filed, places):
    from dangan.catalogue.services import metadata_digest

    ledger.seal_days(before=tomorrow())
    assert (places / "witness" / f"ledger-{timezone.localdate()}.json").exists()
    # The insider edits the title and makes the ledger agree with the new title.
    Record.objects.filter(pk=filed[0].pk).update(title="[偷改并重算]")
    entry = LedgerEntry.objects.get(subject=f"record:{filed[0].pk}")

    def change(e):
        e.digest = metadata_digest(Record.objects.get(pk=filed[0].pk))

    rewrite_chain(entry.seq, change)
    report = run()
    assert not any(p["check"] in ("chain", "record") for p in report.problems), messages(report)
    assert any(p["check"] == "day_root" for p in report.problems)
    assert f"record:{filed[0].pk}" in subjects(report, "witness"), messages(report)


def test_a_rewritten_chain_and_resigned_root_is_still_caught_by_the_witness(filed):
    ledger.seal_days(before=tomorrow())
    entry = LedgerEntry.objects.get(subject=f"record:{filed[2].pk}")

    def change(e):
        e.details = '{"state":"filed","archival_code":"X"}'

    rewrite_chain(entry.seq, change)
    # Even with the key on the server, re-sealing leaves the witness copy as it was.
    DayRoot.objects.all().delete()
    ledger.seal_days(before=tomorrow())
    report = run()
    assert subjects(report, "day_root") == set(), messages(report)
    assert f"record:{filed[2].pk}" in subjects(report, "witness"), messages(report)


def test_day_root_signature_verifies_and_a_forged_root_does_not(filed, places):
    sealed = ledger.seal_days(before=tomorrow())
    assert len(sealed) == 1
    root = sealed[0]
    assert ledger.signature_ok(root)
    assert root.count == LedgerEntry.objects.filter(day=root.day).count()
    document = json.loads((places / "witness" / f"ledger-{root.day}.json").read_text())
    assert document["root"] == root.root
    assert ledger.merkle_root([bytes.fromhex(e[7]) for e in document["entries"]]) == root.root
    assert run().passed
    DayRoot.objects.filter(pk=root.pk).update(root="0" * 64)
    report = run()
    assert "not valid" in messages(report)


def test_sealing_puts_the_audit_head_into_the_ledger_and_verify_checks_it(filed):
    from dangan.audit.models import AuditEvent

    ledger.seal_days(before=tomorrow())
    head = LedgerEntry.objects.filter(kind=ledger.AUDIT_HEAD).get()
    event = AuditEvent.objects.get(pk=int(head.subject.split(":")[1]))
    assert head.digest == f"sha256:{event.digest}"
    AuditEvent.objects.filter(pk=event.pk).update(object_repr="[改过]")
    report = run()
    assert any(p["check"] == "audit" for p in report.problems), messages(report)


def test_a_destroyed_record_is_expected_to_be_a_tombstone_without_content(filed):
    from dangan.catalogue.services import metadata_digest
    from dangan.content.models import Page

    record = filed[1]
    blobs = list(Blob.objects.filter(pages__record=record))
    with transaction.atomic():
        Page.objects.filter(record=record).delete()
        for blob in blobs:
            get_store().path(blob.key).unlink()
            blob.delete()
            ledger.append(kind=ledger.CONTENT_REMOVED, subject=f"blob:{blob.sha256}", digest="")
        Record.objects.filter(pk=record.pk).update(state=Record.State.DESTROYED, title="[已销毁]")
        ledger.append(
            kind=ledger.RECORD_DESTROYED,
            subject=f"record:{record.pk}",
            digest=metadata_digest(Record.objects.get(pk=record.pk)),
        )
    report = run()
    assert report.passed, messages(report)
    Record.objects.filter(pk=record.pk).update(title="[偷改存根]")
    assert subjects(run()) == {f"record:{record.pk}"}


def test_destroyed_content_still_in_the_store_is_reported(filed):
    blob = filed[1].pages.first().blob
    ledger.append(kind=ledger.CONTENT_REMOVED, subject=f"blob:{blob.sha256}")
    from dangan.content.models import Page

    Page.objects.filter(blob=blob).delete()
    Blob.objects.filter(pk=blob.pk).delete()
    report = run()
    assert "destroyed" in messages(report)


def test_the_command_exits_non_zero_and_prints_json(filed, capsys):
    call_command("verify", "--json", "--no-seal")
    assert json.loads(capsys.readouterr().out)["passed"] is True
    Record.objects.filter(pk=filed[0].pk).update(title="[偷改]")
    with pytest.raises(SystemExit) as exit_:
        call_command("verify", "--json")
    assert exit_.value.code == 1
    result = json.loads(capsys.readouterr().out)
    assert result["passed"] is False
    assert {p["subject"] for p in result["problems"]} == {f"record:{filed[0].pk}"}
    assert VerifyRun.objects.count() == 2
    assert VerifyRun.objects.first().passed is False


def test_the_chain_walks_the_same_in_worker_processes(filed):
    """Workers read committed rows: committed here by a transactional test below."""
    from dangan.integrity.verify import chain_pass

    assert chain_pass(workers=1)["problems"] == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_chain(fonds, category):
    from dangan.catalogue.services import create_record
    from dangan.integrity.verify import chain_pass

    errors = []

    def write(n):
        try:
            for i in range(8):
                if i % 2:
                    ledger.append(kind=ledger.TRANSFER_EXPORTED, subject=f"transfer:{n}-{i}")
                else:
                    create_record(
                        actor=None,
                        fonds=fonds,
                        category=category,
                        values={
                            "title": f"[并发{n}-{i}]",
                            "year": 2020,
                            "date": datetime.date(2020, 1, 1),
                            "responsible": "县人社局",
                            "openness": "controlled",
                        },
                    )
        except Exception as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert list(LedgerEntry.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, 33)
    )
    assert chain_pass(workers=1)["problems"] == []
    assert chain_pass(workers=2)["problems"] == []


def test_check_filing_runs_once_over_newly_filed_records_then_preservation(filed, capsys):
    from dangan.integrity.models import CheckReport

    call_command("check", "--stage", "filing", "--json")
    result = json.loads(capsys.readouterr().out)
    assert result["passed"] is True
    (report,) = CheckReport.objects.filter(stage="filing")
    assert report.items == 1 and report.files == 2  # only the record with content
    assert report.results.filter(check_id__startswith="GD-").count() == report.results.count()
    call_command("check", "--stage", "filing", "--json")  # nothing new since
    assert json.loads(capsys.readouterr().out)["reports"] == []
    page = filed[1].pages.order_by("position").first()
    path = get_store().path(page.blob.key)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes()[:-1] + b"!")
    with pytest.raises(SystemExit):
        call_command("check", "--stage", "preservation", "--json")
    result = json.loads(capsys.readouterr().out)
    assert result["reports"][0]["failed"] == ["BC-1-1"]


def test_the_integrity_page_shows_the_last_run_to_the_auditor_not_a_clerk(filed, make_user, client):
    from dangan.accounts.models import Role

    Record.objects.filter(pk=filed[0].pk).update(title="[偷改]")
    ledger.seal_days(before=tomorrow())
    verify(seal=False)
    auditor = make_user(role=Role.AUDITOR, grants=())
    client.force_login(auditor)
    page = client.get("/integrity/")
    assert page.status_code == 200
    assert f"record:{filed[0].pk}".encode() in page.content
    assert filed[0].archival_code.encode() not in page.content  # 三员 read no records
    day = DayRoot.objects.get().day
    assert client.get(f"/integrity/days/{day}.json").json()["root"] == DayRoot.objects.get().root
    day_page = client.get(f"/integrity/days/{day}.pdf").content
    assert day_page.startswith(b"%PDF")
    from tests.pdf_glyphs import assert_pdfa_2b

    assert_pdfa_2b(day_page)  # a day page is kept for good: PDF/A-2b
    from dangan.integrity.stages import check_preservation

    (report,) = check_preservation(actor=None)
    page = client.get(f"/integrity/reports/{report.pk}/")
    assert page.status_code == 200 and b"BC-1-1" in page.content
    assert client.get("/integrity/days/2001-01-01.json").status_code == 404
    clerk = make_user(role=Role.READING_CLERK)
    client.force_login(clerk)
    assert client.get("/integrity/").status_code == 403


def test_check_transfer_stage_over_a_transfer_package(filed, category, places, capsys):
    from dangan.appraisal import transfer
    from dangan.integrity.models import CheckReport

    exported = transfer.export_transfer(
        actor=None, category=category, year=2001, destination=places / "out"
    )
    try:  # two of the three records have no files: numbering fails, said so
        call_command("check", "--stage", "transfer", str(exported.transfer.path), "--json")
    except SystemExit as exit_:
        assert exit_.code == 1
    result = json.loads(capsys.readouterr().out)
    report = CheckReport.objects.get(pk=result["reports"][0]["id"])
    assert report.subject_type == "transfer.package"
    assert report.results.filter(check_id__startswith="YJ-").count() == report.results.count()
    assert result["passed"] is report.passed
