"""Backup and restore (dangan/integrity/backups/): back up, destroy the instance, restore it as
a fresh one, and find every record and page there with the verification clean — on the database
the tests run on (SQLite, or PostgreSQL with a database made and dropped here)."""

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.db import connection

from dangan.content.services import add_files
from dangan.integrity.backups import BackupError, restore
from dangan.integrity.models import BackupRecord, StorageAlert
from tests.api.conftest import id_number
from tests.content.conftest import jpeg, pdf

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT_QUERY = (
    "import json; from dangan.catalogue.models import Record;"
    " from dangan.content.models import Page;"
    "print(json.dumps({'records': sorted([str(r.archival_code), r.title, r.year,"
    " sorted(p.id_number for p in r.persons.all())] for r in Record.objects.all()),"
    " 'pages': sorted([str(p.record.archival_code), p.position, p.filename, p.blob.sha256]"
    " for p in Page.objects.select_related('record', 'blob'))}))"
)


@pytest.fixture
def instance(settings, tmp_path, local_store, make_record, archivist):
    """A small archive: records with persons and pages (one blob shared by two records), and a
    data folder with the files an installation keeps there."""
    data = tmp_path / "data"
    (data / "keys").mkdir(parents=True)
    (data / "secret_key").write_text("s" * 64)
    (data / "keys" / "archive.key").write_bytes(os.urandom(32))
    (data / "imports").mkdir()
    (data / "imports" / "register.xlsx").write_bytes(b"PK\x03\x04" + os.urandom(100))
    settings.DATA_DIR = data
    settings.STATIC_ROOT = data / "static"
    settings.DANGAN_SCAN_ROOT = data / "scans"
    shared = jpeg(30_000)
    for n in range(3):
        record = make_record(
            actor=archivist,
            person={"id_number": id_number(f"11010119800101{n}12"), "name": f"王{n}"},
        )
        files = [("scan.jpg", io.BytesIO(shared)), (f"p{n}.jpg", io.BytesIO(jpeg(40_000)))]
        if n == 2:
            files.append(("letter.pdf", io.BytesIO(pdf(os.urandom(5000)))))
        add_files(actor=archivist, record=record, files=files)
    return {"data": data, "content": local_store.root}


def _dangan(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dangan.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _snapshot_here() -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(SNAPSHOT_QUERY)  # the same query the restored instance answers below
    return json.loads(out.getvalue())


def _json_line(text: str) -> dict:
    return json.loads(next(line for line in text.splitlines() if line.startswith("{")))


@pytest.fixture
def fresh_database():
    """The URL of a new, empty database of the engine the tests run on; dropped afterwards."""
    if connection.vendor == "sqlite":
        yield None
        return
    s = connection.settings_dict
    name = f"{s['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    raw = connection.get_new_connection(connection.get_connection_params())
    raw.autocommit = True
    raw.execute(f'CREATE DATABASE "{name}"')
    user = s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    host, port = s.get("HOST") or "127.0.0.1", s.get("PORT") or 5432
    yield f"postgres://{user}{password}@{host}:{port}/{name}"
    raw.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    raw.close()


def test_backup_destroy_restore_finds_every_record_and_page_and_verifies(
    instance, tmp_path, fresh_database
):
    before = _snapshot_here()
    assert len(before["records"]) == 3 and len(before["pages"]) == 7
    dest = tmp_path / "usb-disk"
    out = io.StringIO()
    call_command(
        "backup", str(dest), "--json", "--medium", "USB disk no. 3", "--location", "safe",
        stdout=out,
    )  # fmt: skip
    summary = json.loads(out.getvalue())
    assert summary["complete"] and summary["verified_ok"]
    assert summary["records"] == 3 and summary["blobs"] == 5 == summary["blobs_copied"]
    entry = BackupRecord.objects.get()
    assert (entry.medium, entry.location, entry.database_engine) == (
        "USB disk no. 3",
        "safe",
        connection.vendor,
    )
    assert entry.verified_at is not None and entry.verified_ok
    manifest = json.loads(next(dest.glob("snapshots/*/manifest.json")).read_text())
    assert {f["path"] for f in manifest["data_files"]} == {
        "secret_key",
        "keys/archive.key",
        "imports/register.xlsx",
    }

    # Destroy the instance: content, data folder; the database is a new, empty one.
    shutil.rmtree(instance["content"])
    shutil.rmtree(instance["data"])
    fresh = tmp_path / "fresh"
    env = {
        **os.environ,
        "DANGAN_DATA_DIR": str(fresh),
        "DATABASE_URL": fresh_database or f"sqlite:///{fresh / 'dangan.sqlite3'}",
        "DANGAN_FIXITY_SCHEDULE": "false",
    }
    env.pop("DANGAN_CONTENT_DIR", None)
    done = _dangan("restore", str(dest), "--json", env=env)
    assert done.returncode == 0, done.stderr
    restored = json.loads(done.stdout)
    assert restored["counts"]["records"] == 3 and restored["counts"]["pages"] == 7
    assert restored["blobs_copied"] == 5
    assert (fresh / "keys" / "archive.key").read_bytes() == (
        dest / "snapshots" / restored["snapshot"] / "data" / "keys" / "archive.key"
    ).read_bytes()

    shown = _dangan("shell", "--no-imports", "-c", SNAPSHOT_QUERY, env=env)
    assert shown.returncode == 0, shown.stderr
    assert _json_line(shown.stdout) == before

    if "verify" in get_commands():
        verified = _dangan("verify", "--json", env=env)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    audit = _dangan("verify_audit", env=env)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    alerts = _dangan("alerts", "--json", env=env)  # the restore is a security alert
    assert alerts.returncode == 1, alerts.stderr
    assert [a["kind"] for a in json.loads(alerts.stdout)] == ["restore"]
    fixity = _dangan("fixity", "--all", "--json", "--mb-per-s", "0", env=env)
    assert fixity.returncode == 0, fixity.stdout + fixity.stderr
    assert json.loads(fixity.stdout)["blobs"] == 5


def test_a_second_backup_copies_only_new_blobs(instance, tmp_path, make_record, archivist):
    dest = tmp_path / "usb-disk"
    call_command("backup", str(dest), "--no-verify", stdout=io.StringIO())
    record = make_record(actor=archivist)
    add_files(actor=archivist, record=record, files=[("new.jpg", io.BytesIO(jpeg(10_000)))])
    out = io.StringIO()
    call_command("backup", str(dest), "--json", stdout=out)
    second = json.loads(out.getvalue())
    assert second["blobs"] == 6 and second["blobs_copied"] == 1
    assert len(list((dest / "snapshots").iterdir())) == 2
    assert BackupRecord.objects.count() == 2


def test_a_damaged_backup_is_found_alerted_and_never_restored(instance, tmp_path):
    dest = tmp_path / "usb-disk"
    call_command("backup", str(dest), "--no-verify", stdout=io.StringIO())
    blob = next(p for p in (dest / "blobs").rglob("*") if p.is_file())
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[100] ^= 0xFF
    blob.write_bytes(bytes(data))
    with pytest.raises(CommandError):
        call_command("backup", str(dest), "--verify", stdout=io.StringIO(), stderr=io.StringIO())
    entry = BackupRecord.objects.get()
    assert entry.verified_ok is False and entry.verified_at is not None
    assert StorageAlert.objects.get().kind == StorageAlert.Kind.BACKUP_FAILED
    with pytest.raises(BackupError, match="not whole"):
        restore(src=dest)


def test_restore_refuses_a_database_that_is_not_empty(instance, tmp_path):
    dest = tmp_path / "usb-disk"
    call_command("backup", str(dest), "--no-verify", stdout=io.StringIO())
    with pytest.raises(BackupError, match="not empty"):
        restore(src=dest)


def test_restore_refuses_a_manifest_naming_files_outside_the_snapshot(instance, tmp_path):
    dest = tmp_path / "usb-disk"
    call_command("backup", str(dest), "--no-verify", stdout=io.StringIO())
    path = next(dest.glob("snapshots/*/manifest.json"))
    manifest = json.loads(path.read_text())
    manifest["data_files"][0]["path"] = "../../etc/cron.d/evil"
    path.write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match="outside the snapshot"):
        restore(src=dest)


def test_blobs_in_s3_are_backed_up_and_restored_into_s3(
    s3_store, make_record, archivist, settings, tmp_path
):
    from dangan.content.stores import get_store
    from dangan.integrity.backups import backup, find_snapshot, load_manifest
    from dangan.integrity.backups.restoring import _restore_blobs

    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    record = make_record(actor=archivist)
    files = [(f"{n}.jpg", io.BytesIO(jpeg(20_000))) for n in range(2)]
    add_files(actor=archivist, record=record, files=files)
    entry = backup(dest=tmp_path / "usb")
    assert entry.blobs == 2 == entry.blobs_copied and entry.verified_ok
    snapshot = find_snapshot(tmp_path / "usb")
    listed = load_manifest(snapshot)["blobs"]["list"]
    settings.CONTENT_S3 = {**settings.CONTENT_S3, "bucket": f"fresh-{uuid.uuid4().hex[:12]}"}
    fresh = get_store()
    fresh.ensure_bucket()
    assert _restore_blobs(tmp_path / "usb" / "blobs", listed, None) == 2
    assert all(fresh.exists(f"{sha[:2]}/{sha[2:4]}/{sha}") for sha, _size in listed)


@pytest.mark.django_db
def test_the_register_says_where_each_medium_is_kept(make_user, logged_in):
    from django.utils import timezone

    from dangan.accounts.models import Role

    entry = BackupRecord.objects.create(
        snapshot="20261125T023000Z",
        destination="/mnt/backup",
        medium="USB disk no. 3",
        created_at=timezone.now(),
        database_engine="sqlite",
        manifest_sha256="0" * 64,
        operator="dangan",
    )
    auditor = logged_in(make_user(role=Role.AUDITOR, grants=[]))
    assert "USB disk no. 3" in auditor.get("/storage/backups/").content.decode()
    refused = auditor.post(f"/storage/backups/{entry.pk}/", {"location": "x", "note": ""})
    assert refused.status_code == 403
    admin = logged_in(make_user(role=Role.SYSTEM_ADMIN, grants=[]))
    admin.post(f"/storage/backups/{entry.pk}/", {"location": "off site: 档案馆", "note": "week 48"})
    entry.refresh_from_db()
    assert (entry.location, entry.note) == ("off site: 档案馆", "week 48")
    assert admin.get(f"/storage/backups/{entry.pk}/").status_code == 405


def test_an_encrypted_store_goes_to_the_medium_sealed_and_without_its_key(
    settings, tmp_path, make_record, archivist
):
    from dangan.content.stores import blob_key, get_store
    from dangan.integrity.backups import backup, find_snapshot, load_manifest
    from dangan.integrity.backups.restoring import _restore_blobs

    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"
    settings.DANGAN_CONTENT_ENCRYPTION = "aes-256-gcm"
    plain = jpeg(30_000)
    record = make_record(actor=archivist)
    [page] = add_files(actor=archivist, record=record, files=[("a.jpg", io.BytesIO(plain))])
    assert (settings.DATA_DIR / "content-kek").exists()
    entry = backup(dest=tmp_path / "usb")
    assert entry.blobs == 1 == entry.blobs_copied and entry.verified_ok
    [copy] = [f for f in (tmp_path / "usb" / "blobs").rglob("*") if f.is_file()]
    assert plain[100:2000] not in copy.read_bytes()  # sealed on the medium
    manifest = load_manifest(find_snapshot(tmp_path / "usb"))
    assert "content-kek" not in {f["path"] for f in manifest["data_files"]}
    settings.CONTENT_DIR = tmp_path / "new-content"  # a new server, the same key (from the safe)
    assert _restore_blobs(tmp_path / "usb" / "blobs", manifest["blobs"]["list"], None) == 1
    stream = get_store().open(blob_key(page.blob.sha256))
    try:
        assert stream.read(10**6) == plain
    finally:
        stream.close()
