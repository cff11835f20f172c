"""Every kind of change made behind the application's back, straight in the database or the
store, is caught by ``dangan verify``: exit 1, the finding's kind and the objects named — and
an untouched instance verifies clean first. Run on SQLite and on PostgreSQL alike."""

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection

from dangan.audit.models import AuditEvent
from dangan.catalogue.models import Record
from dangan.content.services import add_files
from dangan.content.stores import get_store
from dangan.integrity.models import LedgerEntry
from dangan.people.models import Person, RecordPerson
from tests.integrity.test_ledger import jpeg

# Three persons (valid ID numbers) and four records: A's file, a file of A and B with two
# scanned pages, C's file, and a record about nobody.
A = {"id_number": "110101199003071233", "name": "成文刚"}
B = {"id_number": "110101198512120027", "name": "万平德"}
C = {"id_number": "320102197001010011", "name": "李秀英"}
OTHER_NUMBER = "110101199003075197"  # a valid number nobody has


@pytest.fixture(autouse=True)
def places(settings, tmp_path):
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    settings.DANGAN_LEDGER_WITNESS_DIR = str(tmp_path / "witness")


@pytest.fixture
def instance(make_record, archivist):
    from dangan.catalogue.services import update_record
    from dangan.people.services import check_person, resolve_persons

    a = make_record(actor=archivist, person=A, title="[成文刚企业职工退休档案]")
    ab = make_record(actor=archivist, person=A)
    b = resolve_persons(actor=archivist, entries=[check_person(**B)])[B["id_number"]]
    update_record(actor=archivist, record=ab, persons=[*ab.persons.all(), b], reason="配偶")
    add_files(
        actor=archivist,
        record=ab,
        files=[("p1.jpg", io.BytesIO(jpeg())), ("p2.jpg", io.BytesIO(jpeg(20_000)))],
    )
    c = make_record(actor=archivist, person=C)
    nobody = make_record(actor=archivist)
    return {
        "a": a,
        "ab": ab,
        "c": c,
        "nobody": nobody,
        "A": Person.objects.get(id_number=A["id_number"]),
        "B": b,
        "C": Person.objects.get(id_number=C["id_number"]),
    }


def verify_json(capsys):
    """``dangan verify --json``: (exit status, findings)."""
    capsys.readouterr()
    try:
        call_command("verify", "--json")
        status = 0
    except SystemExit as exit_:
        status = exit_.code
    return status, json.loads(capsys.readouterr().out)["problems"]


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


# Each change: what it does to the instance, and a finding that must be among those reported:
# (kind, subject, objects that must be named).
def record_fields(i):
    Record.objects.filter(pk=i["a"].pk).update(title="[偷改的题名]")
    return "record", f"record:{i['a'].pk}", [], "title"


def person_name(i):
    Person.objects.filter(pk=i["A"].pk).update(name="成文钢")
    return (
        "person",
        f"person:{i['A'].pk}",
        [f"record:{i['a'].pk}", f"record:{i['ab'].pk}"],
        "name",
    )


def person_id_number(i):
    Person.objects.filter(pk=i["C"].pk).update(id_number=OTHER_NUMBER)
    return "person", f"person:{i['C'].pk}", [f"record:{i['c'].pk}"], "id_number"


def link_moved(i):
    RecordPerson.objects.filter(record=i["c"], person=i["C"]).update(person=i["A"])
    return "link", f"record:{i['c'].pk}", [f"person:{i['C'].pk}", f"person:{i['A'].pk}"], ""


def link_added(i):
    RecordPerson.objects.create(record=i["nobody"], person=i["B"], role="subject", position=0)
    return "link", f"record:{i['nobody'].pk}", [f"person:{i['B'].pk}"], ""


def link_removed(i):
    RecordPerson.objects.filter(record=i["ab"], person=i["B"]).delete()
    return "link", f"record:{i['ab'].pk}", [f"person:{i['B'].pk}"], ""


def record_deleted(i):
    sql(f"DELETE FROM {RecordPerson._meta.db_table} WHERE record_id = %s", [i["c"].pk])
    sql(f"DELETE FROM {Record._meta.db_table} WHERE id = %s", [i["c"].pk])
    return "record", f"record:{i['c'].pk}", [], "gone"


def record_added(i):
    forged = Record.objects.get(pk=i["nobody"].pk)
    forged.pk = None
    forged.archival_code, forged.code_prefix, forged.sequence = "", "", None
    forged.title = "[伪造的档案]"
    forged.save()
    return "record", f"record:{forged.pk}", [], "not in the ledger"


def blob_flipped(i):
    blob = i["ab"].pages.first().blob
    path = get_store().path(blob.key)
    data = bytearray(path.read_bytes())
    data[100] ^= 0x01
    path.write_bytes(bytes(data))
    return "blob", f"record:{i['ab'].pk}", [f"blob:{blob.sha256}"], "bytes changed"


def blob_missing(i):
    blob = i["ab"].pages.last().blob
    get_store().path(blob.key).unlink()
    return "blob", f"record:{i['ab'].pk}", [f"blob:{blob.sha256}"], "missing"


def audit_edited(i):
    event = AuditEvent.objects.filter(
        object_type="catalogue.record", object_id=str(i["a"].pk)
    ).first()
    AuditEvent.objects.filter(pk=event.pk).update(actor_name="somebody-else")
    return "audit", f"record:{i['a'].pk}", [], "breaks the audit chain"


def audit_deleted(i):
    event = AuditEvent.objects.order_by("id")[2]
    sql(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [event.pk])
    return "audit", None, [], "breaks the audit chain"


def ledger_edited(i):
    entry = LedgerEntry.objects.get(subject=f"record:{i['c'].pk}", kind="record.filed")
    LedgerEntry.objects.filter(pk=entry.pk).update(digest="sha256:" + "0" * 64)
    return "ledger", f"record:{i['c'].pk}", [], "altered"


CHANGES = [
    record_fields,
    person_name,
    person_id_number,
    link_moved,
    link_added,
    link_removed,
    record_deleted,
    record_added,
    blob_flipped,
    blob_missing,
    audit_edited,
    audit_deleted,
    ledger_edited,
]


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__ for c in CHANGES])
def test_a_change_behind_the_applications_back_is_caught_and_named(instance, capsys, change):
    status, problems = verify_json(capsys)
    assert (status, problems) == (0, []), problems

    kind, subject, objects, words = change(instance)
    status, problems = verify_json(capsys)
    assert status == 1
    found = [
        p for p in problems if p["kind"] == kind and (subject is None or p["subject"] == subject)
    ]
    assert found, problems
    assert any(set(objects) <= set(p["objects"]) and words in p["message"] for p in found), found
    for p in problems:
        assert p["objects"][0] == p["subject"]


def test_a_renamed_person_is_named_with_every_record_that_concerns_them(instance, capsys):
    Person.objects.filter(pk=instance["A"].pk).update(name="成文钢")
    _status, problems = verify_json(capsys)
    by_subject = {(p["kind"], p["subject"]) for p in problems}
    person = f"person:{instance['A'].pk}"
    assert by_subject == {
        ("person", person),
        ("person", f"record:{instance['a'].pk}"),
        ("person", f"record:{instance['ab'].pk}"),
    }
    assert all(person in p["objects"] for p in problems)


def test_a_ledger_from_before_persons_were_covered_verifies_and_is_anchored_on_upgrade(
    make_record, archivist, capsys
):
    """Old entries hold the record's fields digest only; the upgrade migration anchors the
    persons and links on file, but never a record already changed behind the back."""
    import importlib

    from django.apps import apps

    from dangan.catalogue.services import fields_digest
    from dangan.integrity import ledger
    from dangan.people.services import check_person

    kept, tampered = make_record(actor=archivist), make_record(actor=archivist)
    checked, name = check_person(**A)
    old = Person.objects.create(
        id_number=checked.number,
        name=name,
        sex=checked.sex,
        birth_date=checked.birth_date,
    )
    RecordPerson.objects.create(record=kept, person=old, role="subject", position=0)
    for record in (kept, tampered):  # what an archive made before this version holds
        ledger.append(
            kind=ledger.RECORD_CHANGED, subject=f"record:{record.pk}", digest=fields_digest(record)
        )
    Record.objects.filter(pk=tampered.pk).update(title="[升级前偷改]")
    status, problems = verify_json(capsys)
    assert {(p["kind"], p["subject"]) for p in problems} == {
        ("person", f"person:{old.pk}"),  # no entry yet
        ("record", f"record:{tampered.pk}"),
    }

    migration = importlib.import_module("dangan.integrity.migrations.0004_persons_in_ledger")
    migration.anchor(apps, None)

    status, problems = verify_json(capsys)
    assert [(p["kind"], p["subject"]) for p in problems] == [("record", f"record:{tampered.pk}")]
    anchored = LedgerEntry.objects.filter(subject=f"record:{kept.pk}").order_by("-seq").first()
    assert " persons:" in anchored.digest and '"anchored":"persons"' in anchored.details
    RecordPerson.objects.filter(record=kept).delete()  # now a link is covered
    _status, problems = verify_json(capsys)
    assert ("link", f"record:{kept.pk}") in {(p["kind"], p["subject"]) for p in problems}


def test_the_integrity_page_names_the_kinds_and_objects_in_chinese(instance, make_user, client):
    from dangan.accounts.models import Role
    from dangan.integrity.verify import verify

    Person.objects.filter(pk=instance["A"].pk).update(name="成文钢")
    RecordPerson.objects.filter(record=instance["c"]).delete()
    verify(seal=False, read_blobs=False)
    client.force_login(make_user(role=Role.AUDITOR, grants=()))
    page = client.get("/integrity/").content.decode()
    rows = [row for row in page.split("<tr") if "kind-" in row]
    person = next(row for row in rows if f">person:{instance['A'].pk}<" in row)
    assert "<td>人员</td>" in person
    assert f"record:{instance['a'].pk}" in person and f"record:{instance['ab'].pk}" in person
    link = next(row for row in rows if f">record:{instance['c'].pk}<" in row)
    assert "<td>档案与人员的关联</td>" in link and f"person:{instance['C'].pk}" in link
    assert "成文钢" not in page and "成文刚" not in page  # findings name no one


def test_the_preservation_check_includes_who_a_record_is_about(instance):
    from dangan.integrity.stages import check_preservation

    (report,) = check_preservation(actor=None)
    assert report.passed
    Person.objects.filter(pk=instance["B"].pk).update(name="万平得")

    (report,) = check_preservation(actor=None)

    assert not report.passed
    metadata = report.results.get(check_id="BC-2-3")
    assert metadata.verdict == "fail"
    assert any(f"person:{instance['B'].pk} differs from the ledger" in e for e in metadata.evidence)


def test_a_name_corrected_in_the_person_admin_is_a_legitimate_change(
    instance, make_user, logged_in, capsys
):
    """The admin's person form (for a staff user who may edit records) goes through the people
    service, with its reason, so verify stays clean: a bare save would read as tampering."""
    person = instance["A"]
    url = f"/admin/people/person/{person.pk}/change/"
    client = logged_in(make_user(is_staff=True))
    refused = client.post(url, {"name": "成文钢"})  # no reason: the form says so, nothing saved
    assert refused.status_code == 200
    person.refresh_from_db()
    assert person.name == A["name"]
    done = client.post(url, {"name": "成文钢", "reason": "登记表笔误"})
    assert done.status_code == 302
    person.refresh_from_db()
    assert person.name == "成文钢"
    assert verify_json(capsys) == (0, [])
    assert AuditEvent.objects.filter(detail__icontains="登记表笔误").exists()
