"""Transfer packages: DA/T 93 layout, our XML valid against docs/transfer/, a round trip into an
empty instance (a second database) with every record and digest unchanged."""

import datetime
import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from lxml import etree

from dangan.appraisal import transfer
from dangan.appraisal.models import Transfer
from dangan.catalogue.models import Record
from dangan.intake.packages import PackageRefused
from dangan.integrity.models import CheckReport, LedgerEntry

from .conftest import PERSON

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def year_of_records(expired, make_record, category):
    """Three records of SYTG 2001 with content (one with a person), one of 2002."""
    records = [expired(), expired(person=None), expired(person=None, secrecy=0)]
    Record.objects.filter(pk=records[1].pk).update(metadata={})
    expired(year=2002, date=datetime.date(2002, 1, 1), person=None)
    return records


def _members(path) -> dict:
    with tarfile.open(path) as tar:
        return {m.name.split("/", 1)[1]: tar.extractfile(m).read() for m in tar if m.isfile()}


def test_export_writes_the_dat93_layout_valid_against_our_schemas(
    year_of_records, category, tmp_path
):
    exported = transfer.export_transfer(
        actor=None, category=category, year=2001, destination=tmp_path
    )

    assert exported.run.passed, [o.evidence for o in exported.run.outcomes if o.verdict == "fail"]
    members = _members(exported.transfer.path)
    assert {"bagit.txt", "bag-info.txt", "manifest-sha256.txt", "manifest-sm3.txt"} <= set(members)
    assert "data/说明文件.txt" in members and "data/目录文件.xml" in members
    schema, eep = transfer.schema("transfer.xsd"), transfer.schema("eep.xsd")
    catalogue = etree.fromstring(members["data/目录文件.xml"])
    schema.assertValid(catalogue)
    items = catalogue.findall(f"{{{transfer.NS}}}item")
    assert [i.get("code") for i in items] == sorted(r.archival_code for r in year_of_records)
    for item in items:
        directory = item.get("path")
        schema.assertValid(etree.fromstring(members[f"data/{directory}/元数据.xml"]))
        eep.assertValid(etree.fromstring(members[f"data/{directory}/{directory}.eep"]))
        assert sum(1 for name in members if name.startswith(f"data/{directory}/{directory}-")) == 2
    assert "件数: 3" in members["data/说明文件.txt"].decode()
    report = CheckReport.objects.get(pk=exported.transfer.report_id)
    assert report.passed and report.subject_type == "appraisal.transfer"
    assert LedgerEntry.objects.filter(kind="transfer.exported").count() == 1
    # A schema catches what we would not write.
    broken = etree.fromstring(members["data/目录文件.xml"])
    broken.find(f"{{{transfer.NS}}}item").set("retention", "D7")
    assert not schema.validate(broken)


def test_a_link_between_records_travels_in_the_transfer_package(
    year_of_records, category, tmp_path
):
    from dangan.catalogue.relations import link_records

    reply, request, _third = year_of_records
    elsewhere = Record.objects.get(category=category, year=2002)
    link_records(actor=None, source=reply, target=request, kind="reply")
    link_records(actor=None, source=reply, target=elsewhere, kind="see_also")
    exported = transfer.export_transfer(
        actor=None, category=category, year=2001, destination=tmp_path
    )
    assert exported.run.passed
    members = _members(exported.transfer.path)
    directory = transfer.item_dir(reply.archival_code)
    metadata = etree.fromstring(members[f"data/{directory}/元数据.xml"])
    transfer.schema("transfer.xsd").assertValid(metadata)
    assert [
        (node.get("kind"), node.get("code"))
        for node in metadata.iterfind(f"{{{transfer.NS}}}relation")
    ] == [("reply", request.archival_code), ("see_also", elsewhere.archival_code)]
    eep = etree.fromstring(members[f"data/{directory}/{directory}.eep"])
    transfer.schema("eep.xsd").assertValid(eep)
    ns = {"e": transfer.EEP_NS}
    related = eep.findall(".//e:关联实体", ns)
    assert [
        (r.findtext("e:关系", namespaces=ns), r.findtext("e:关联档号", namespaces=ns))
        for r in related
    ] == [
        ("回复", request.archival_code),
        ("参见", elsewhere.archival_code),
    ]
    # The record pointed to carries no relation of its own: each link is stated once.
    other = transfer.item_dir(request.archival_code)
    assert b"relation" not in members[f"data/{other}/元数据.xml"]


def test_a_changed_package_is_refused_whole(year_of_records, category, tmp_path):
    exported = transfer.export_transfer(
        actor=None, category=category, year=2001, destination=tmp_path
    )
    members = _members(exported.transfer.path)
    name = next(n for n in members if n.endswith("-0001.jpg"))
    changed = tmp_path / "changed.tar"
    with tarfile.open(exported.transfer.path) as source, tarfile.open(changed, "w") as target:
        for member in source:
            data = source.extractfile(member).read() if member.isfile() else None
            if member.name.endswith(name):
                data = data[:-1] + bytes([data[-1] ^ 1])
            target.addfile(member, io.BytesIO(data) if data is not None else None)
    Record.objects.filter(pk__in=[r.pk for r in year_of_records]).update(archival_code=None)

    reports = CheckReport.objects.count()
    with pytest.raises(PackageRefused) as refused:
        transfer.import_transfer(actor=None, source=changed)
    assert refused.value.file.endswith(name) and "SHA-256" in refused.value.reason
    assert not Transfer.objects.filter(direction="import").exists()
    assert CheckReport.objects.count() == reports


def _dump_code() -> str:
    """Python run inside an instance: every record with its persons and content digests."""
    return (
        "import json\n"
        "from dangan.catalogue.models import Record\n"
        "from dangan.catalogue.services import CORE_FIELDS\n"
        "out = {}\n"
        "records = Record.objects.filter(category__code='SYTG', year=2001)\n"
        "for r in records.order_by('archival_code'):\n"
        "    v = {k: str(getattr(r, k + ('_id' if k == 'unit' else ''))) for k in CORE_FIELDS}\n"
        "    v.update(fonds=r.fonds.code, sequence=r.sequence, state=r.state,\n"
        "        metadata=r.metadata,\n"
        "        persons=sorted(p.id_number + p.name for p in r.persons.all()),\n"
        "        pages=[(p.position, p.filename, p.blob.sha256, p.blob.sm3, p.blob.size)\n"
        "               for p in r.pages.filter(role='original').order_by('position')],\n"
        "        relations=sorted((x.kind, x.target.archival_code)\n"
        "                         for x in r.relations_out.all()))\n"
        "    out[r.archival_code] = v\n"
        "print(json.dumps(out, sort_keys=True, ensure_ascii=False))\n"
    )


def _second_instance(tmp_path):
    """Environment of an empty second instance: its own data dir and database."""
    data = tmp_path / "other"
    data.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["DANGAN_DATA_DIR"] = str(data)
    env["DJANGO_SETTINGS_MODULE"] = "dangan.settings"
    drop = None
    if connection.vendor == "postgresql":
        import psycopg

        params = connection.settings_dict
        name = f"dangan_transfer_{uuid.uuid4().hex[:10]}"
        dsn = (
            f"host={params['HOST'] or '127.0.0.1'} port={params['PORT'] or 5432} "
            f"user={params['USER']} dbname=postgres"
            + (f" password={params['PASSWORD']}" if params.get("PASSWORD") else "")
        )
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')

        def drop():
            with psycopg.connect(dsn, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        auth = params["USER"] + (f":{params['PASSWORD']}" if params.get("PASSWORD") else "")
        env["DATABASE_URL"] = (
            f"postgres://{auth}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{name}"
        )
    else:
        env["DATABASE_URL"] = f"sqlite:///{data / 'second.sqlite3'}"
    return env, drop


def _dangan(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dangan.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_round_trip_into_an_empty_instance_keeps_every_record_and_digest(
    year_of_records, category, tmp_path
):
    from dangan.catalogue.relations import link_records

    link_records(actor=None, source=year_of_records[0], target=year_of_records[1], kind="reply")
    elsewhere = Record.objects.get(category=category, year=2002)  # not in the package
    link_records(actor=None, source=year_of_records[2], target=elsewhere, kind="see_also")
    package = tmp_path / "out" / "sytg-2001.tar"
    out = io.StringIO()
    call_command(
        "export_transfer",
        str(package),
        "--category",
        "SYTG",
        "--year",
        "2001",
        "--json",
        stdout=out,
    )
    assert json.loads(out.getvalue())["items"] == 3
    here = io.StringIO()
    exec_globals: dict = {}
    import contextlib

    with contextlib.redirect_stdout(here):
        exec(_dump_code(), exec_globals)  # noqa: S102 - our own fixed code
    before = json.loads(here.getvalue())

    env, drop = _second_instance(tmp_path)
    try:
        migrated = _dangan(env, "migrate", "--noinput")
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        received = _dangan(env, "import-transfer", str(package), "--json")
        assert received.returncode == 0, received.stdout[-3000:] + received.stderr[-3000:]
        summary = json.loads(received.stdout.strip().splitlines()[-1])
        assert summary["items"] == 3
        assert summary["relations_unresolved"] == [
            {
                "code": year_of_records[2].archival_code,
                "kind": "see_also",
                "target": elsewhere.archival_code,
            }
        ]
        # No worker runs here to compute the SM3 of the received files; a fixity round does.
        checked = _dangan(env, "fixity", "--all")
        assert checked.returncode == 0, checked.stderr[-3000:]
        dumped = _dangan(env, "shell", "-c", _dump_code())
        assert dumped.returncode == 0, dumped.stderr[-3000:]
        after = json.loads(dumped.stdout.strip().splitlines()[-1])
        verified = _dangan(env, "verify", "--json")
        again = _dangan(env, "import-transfer", str(package), "--json")
    finally:
        if drop:
            drop()

    assert set(after) == set(before)
    before[year_of_records[2].archival_code]["relations"] = []  # its other end stayed home
    assert after[year_of_records[0].archival_code]["relations"] == [
        ["reply", year_of_records[1].archival_code]
    ]
    for code, record in before.items():
        record.pop("unit")  # units are matched by code; none here
        got = dict(after[code])
        got.pop("unit")
        assert got == record, code
    assert any(PERSON["id_number"] + PERSON["name"] in r["persons"] for r in after.values())
    assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-3000:]
    # The same package again: the codes are on file, so it is refused whole.
    assert again.returncode != 0


def test_transfer_page_lists_exports(year_of_records, category, tmp_path, archivist, logged_in):
    transfer.export_transfer(actor=archivist, category=category, year=2001, destination=tmp_path)
    page = logged_in(archivist).get("/appraisal/transfers/").content.decode()
    assert "SYTG" in page and "2001" in page


def test_a_package_failing_while_filed_leaves_none_of_its_files_stored(
    year_of_records, category, tmp_path, content_store
):
    """The checks pass, the bytes are stored, then filing fails (the package's person is on file
    here under another name): the blobs the package brought are removed again, rows and bytes,
    each with its content.removed ledger entry; nothing of the package stays."""
    from django.core.exceptions import ValidationError

    from dangan.content.models import Blob, Page
    from dangan.people.models import Person

    exported = transfer.export_transfer(
        actor=None, category=category, year=2001, destination=tmp_path
    )
    # This instance holds neither the records' codes nor their files: the package is new here.
    pages = Page.objects.filter(record__in=year_of_records)
    blobs = list(Blob.objects.filter(pk__in=pages.values("blob")))
    pages.delete()
    for blob in blobs:
        blob.delete()
        content_store.delete(blob.key)
    Record.objects.filter(pk__in=[r.pk for r in year_of_records]).update(archival_code=None)
    Person.objects.filter(id_number=PERSON["id_number"]).update(name="李四")
    count, removed = Blob.objects.count(), LedgerEntry.objects.filter(kind="content.removed")

    with pytest.raises(ValidationError, match="on file for another name"):
        transfer.import_transfer(actor=None, source=exported.transfer.path)

    assert Blob.objects.count() == count
    assert [b.key for b in blobs if content_store.exists(b.key)] == []
    assert not Transfer.objects.filter(direction="import").exists()
    assert sorted(removed.values_list("subject", flat=True)) == sorted(
        f"blob:{b.sha256}" for b in blobs
    )
