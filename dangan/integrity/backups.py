"""备份与恢复 (backup and restore): a consistent snapshot, and a fresh instance made from it.

A backup destination (a USB disk, a mounted NAS folder) holds::

    DEST/blobs/ab/cd/abcd…                  every blob once, by SHA-256 (shared by snapshots)
    DEST/snapshots/20261125T031500Z/
        manifest.json                       what the snapshot holds, with digests
        database.sqlite3 | database.pgdump  the database
        data/…                              DANGAN_DATA_DIR's own files: keys, secret key, imports

*Consistent*: the database is copied first, as of one moment (SQLite's online backup API; on
PostgreSQL ``pg_dump --format=custom --snapshot`` of a snapshot exported from a repeatable-read
transaction), and the list of blobs to copy is read from that same moment. Blobs are content
addressed and never change, so copying them afterwards gives exactly the bytes the snapshot
names. *Incremental*: a blob already at the destination is not copied again. Every blob copied
is re-hashed on the way; the manifest names every file with its SHA-256; after writing, the
snapshot is read back whole and the backup-media register (``BackupRecord``) says when.

``restore`` checks the manifest against the files before touching anything, refuses a database
that is not empty or a data file that would be overwritten, then brings the database, the data
files and the blobs into the configured (empty) instance and migrates it to the code's version.
"""

import datetime
import getpass
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.content.stores import CHUNK_BYTES, blob_key, get_store

from .alerts import raise_alert
from .models import BackupRecord, StorageAlert

FORMAT = "dangan-backup/1"
MANIFEST = "manifest.json"
#: Files of DANGAN_DATA_DIR that are the database itself or are made again by the software.
_SKIP_SUFFIXES = (".sqlite3", ".sqlite3-wal", ".sqlite3-shm", ".sqlite3-journal")
#: Data files a fresh instance makes for itself at its first start, which a restore replaces.
_REPLACEABLE = {"secret_key"}

Progress = Callable[[str, int, int], None] | None


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


# --- Files and digests ---------------------------------------------------------------------------
def _sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    buffer = bytearray(CHUNK_BYTES)
    view = memoryview(buffer)
    with open(path, "rb") as f:
        while n := f.readinto(buffer):
            digest.update(view[:n])
            size += n
    return digest.hexdigest(), size


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256_stream(stream) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    try:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    finally:
        stream.close()
    return digest.hexdigest(), size


def _raw_open(store):
    """How to open a blob *as stored*: under encryption at rest (``content.encryption``) the
    sealed bytes, so that a backup medium never holds the plain content of an encrypted store."""
    from dangan.content import stores

    encrypting = getattr(stores, "EncryptingStore", None)
    if encrypting is not None and isinstance(store, encrypting):
        return super(encrypting, store).open
    return store.open


def _open_plain(path: Path, key: str):
    """A blob file of a backup as plain bytes: decrypted when it was sealed by an encrypting
    store (with the key-encryption keys configured here), as it is otherwise."""
    raw = open(path, "rb")  # noqa: SIM115 - the caller closes it
    try:
        from dangan.content import encryption
    except ImportError:
        return raw
    try:
        keks = encryption.load_keks()
    except Exception:  # a key file that does not parse: sealed blobs will say so
        keks = []
    return encryption.open_sealed(raw, keks, name=key)


def _kek_files() -> list[Path]:
    """The key-encryption keys never go to the backup medium beside the data they protect
    (docs/security.md): they are kept apart, in sealed envelopes."""
    files = [Path(settings.DATA_DIR) / "content-kek"]
    if getattr(settings, "DANGAN_CONTENT_KEK_FILE", ""):
        files.append(Path(settings.DANGAN_CONTENT_KEK_FILE))
    return files


def _copy_stream(stream, target: Path) -> tuple[str, int]:
    """Write ``stream`` to ``target`` through a temporary file; (sha256, size) of the bytes."""
    digest, size = hashlib.sha256(), 0
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK_BYTES):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size


def _data_files(skip: list[Path]) -> list[Path]:
    """The files of DANGAN_DATA_DIR a backup keeps: all but the database, the content store,
    static files, the scanning drop folder, uploads in progress and the backup itself."""
    root = Path(settings.DATA_DIR).resolve()
    skip = [p.resolve() for p in skip]
    files = []
    for folder, dirs, names in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if (here / d).resolve() not in skip and d != "incoming")
        for name in sorted(names):
            path = here / name
            if name.endswith(_SKIP_SUFFIXES) or name.startswith((".dangan-probe-", ".partial-")):
                continue
            if path.resolve() in skip:
                continue
            if path.is_file() and not path.is_symlink():
                files.append(path)
    return files


# --- Database snapshot ---------------------------------------------------------------------------
def _sqlite_snapshot(target: Path) -> tuple[list[tuple[str, int]], dict]:
    """Copy the live SQLite database with the online backup API (readers and writers go on) and
    read the blob list from the copy: the same moment, by construction."""
    source = sqlite3.connect(connection.settings_dict["NAME"], timeout=60)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        blobs = list(copy.execute("SELECT sha256, size FROM content_blob ORDER BY sha256"))
        return blobs, _counts(copy.cursor())
    finally:
        copy.close()
        source.close()


def _pg_command_env() -> tuple[list[str], dict]:
    s = connection.settings_dict
    args = []
    if s.get("HOST"):
        args += ["--host", str(s["HOST"])]
    if s.get("PORT"):
        args += ["--port", str(s["PORT"])]
    if s.get("USER"):
        args += ["--username", str(s["USER"])]
    env = {**os.environ}
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    return args, env


def _pg_snapshot(target: Path) -> tuple[list[tuple[str, int]], dict]:
    """``pg_dump --format=custom`` of a snapshot exported by a repeatable-read transaction that
    also reads the blob list, and stays open until the dump is done."""
    raw = connection.get_new_connection(connection.get_connection_params())
    try:
        raw.autocommit = False
        with raw.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            cursor.execute("SELECT sha256, size FROM content_blob ORDER BY sha256")
            blobs = [(sha, int(size)) for sha, size in cursor.fetchall()]
            counts = _counts(cursor)
            args, env = _pg_command_env()
            done = subprocess.run(
                ["pg_dump", *args, "--format=custom", f"--snapshot={snapshot}",
                 "--no-owner", "--no-privileges", f"--file={target}",
                 connection.settings_dict["NAME"]],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            if done.returncode:
                raise BackupError(_("pg_dump failed: %(error)s") % {"error": done.stderr.strip()})
        raw.rollback()
    finally:
        raw.close()
    return blobs, counts


# --- Backup --------------------------------------------------------------------------------------
def _snapshot_id(snapshots: Path) -> str:
    base = timezone.now().astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    name, n = base, 1
    while (snapshots / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


#: Rows that matter, counted in the snapshot for the manifest and the restore's summary.
_COUNTED = {
    "records": "catalogue_record",
    "pages": "content_page",
    "blobs": "content_blob",
    "ledger": "integrity_ledgerentry",
}


def _counts(cursor) -> dict:
    """The rows of ``_COUNTED`` through ``cursor`` (of the snapshot, or of this instance)."""
    counts = {}
    for name, table in _COUNTED.items():
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - names from _COUNTED
        counts[name] = cursor.fetchone()[0]
    return counts


def backup(
    *,
    dest,
    medium: str = "",
    location: str = "",
    operator: str = "",
    actor=None,
    verify: bool = True,
    progress: Progress = None,
) -> BackupRecord:
    """Write a snapshot of this instance to ``dest`` and register it; see the module's doc."""
    clock = time.monotonic()
    dest = Path(dest).resolve()
    blobs_root, snapshots = dest / "blobs", dest / "snapshots"
    for folder in (dest, blobs_root, snapshots):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    snapshot = _snapshot_id(snapshots)
    work = snapshots / f".partial-{snapshot}"
    work.mkdir(mode=0o700)
    created_at = timezone.now()
    try:
        manifest, written = _write_snapshot(work, blobs_root, dest, progress)
        manifest.update(snapshot=snapshot, created_at=created_at.isoformat())
        _write_manifest(work, manifest)
        os.replace(work, snapshots / snapshot)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    manifest_sha256, manifest_size = _sha256_file(snapshots / snapshot / MANIFEST)
    with transaction.atomic():
        entry = BackupRecord.objects.create(
            snapshot=snapshot,
            destination=str(dest),
            medium=medium or _("disk"),
            location=location,
            created_at=created_at,
            seconds=round(time.monotonic() - clock, 3),
            size=written + manifest_size,
            total_size=manifest["database"]["size"]
            + sum(f["size"] for f in manifest["data_files"])
            + manifest["blobs"]["bytes"],
            database_engine=manifest["database"]["engine"],
            records=manifest["counts"].get("records", 0),
            blobs=manifest["blobs"]["count"],
            blobs_copied=manifest["blobs"]["copied"],
            manifest_sha256=manifest_sha256,
            complete=not manifest["problems"],
            problems=manifest["problems"],
            operator=operator or getattr(actor, "username", "") or _operator(),
        )
        record_event(
            actor=actor,
            action=AuditEvent.Action.EXPORT,
            obj=entry,
            detail={
                "backup": snapshot,
                "destination": str(dest),
                "manifest_sha256": manifest_sha256,
                "blobs": entry.blobs,
                "blobs_copied": entry.blobs_copied,
                "complete": entry.complete,
            },
        )
    if manifest["problems"]:
        _alert_backup(entry, manifest["problems"])
    if verify:
        verify_backup(entry=entry, progress=progress)
    return entry


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "system"


def _write_snapshot(work: Path, blobs_root: Path, dest: Path, progress: Progress):
    """Database, data files and blobs into ``work``; (manifest without id, bytes written)."""
    engine = connection.vendor
    if engine == "sqlite":
        db_file = work / "database.sqlite3"
        blobs, counts = _sqlite_snapshot(db_file)
    elif engine == "postgresql":
        db_file = work / "database.pgdump"
        blobs, counts = _pg_snapshot(db_file)
    else:
        raise BackupError(
            _("Backups know SQLite and PostgreSQL, not %(engine)s.") % {"engine": engine}
        )
    db_sha256, db_size = _sha256_file(db_file)
    written = db_size
    skip = [Path(settings.CONTENT_DIR), Path(settings.STATIC_ROOT), settings.DANGAN_SCAN_ROOT, dest]
    skip += _kek_files()
    data_files = []
    for path in _data_files(skip):
        relative = path.relative_to(Path(settings.DATA_DIR).resolve())
        target = work / "data" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        sha, size = _sha256_file(target)
        data_files.append({"path": relative.as_posix(), "sha256": sha, "size": size})
        written += size
    copied, copied_bytes, problems = _copy_blobs(blobs, blobs_root, progress)
    written += copied_bytes
    manifest = {
        "format": FORMAT,
        "database": {"engine": engine, "file": db_file.name, "sha256": db_sha256, "size": db_size},
        "data_files": data_files,
        "blobs": {
            "count": len(blobs),
            "bytes": sum(size for _sha, size in blobs),
            "copied": copied,
            "list": [[sha, size] for sha, size in blobs],
        },
        "counts": counts,
        "problems": problems,
    }
    return manifest, written


def _copy_blobs(blobs, blobs_root: Path, progress: Progress) -> tuple[int, int, list[dict]]:
    """Copy the blobs ``blobs_root`` lacks, as stored (sealed under encryption at rest), and
    check each copy's plain SHA-256: (copied, bytes written, problems)."""
    store = get_store()
    raw_open = _raw_open(store)
    copied = copied_bytes = 0
    problems = []
    for n, (sha, size) in enumerate(blobs, start=1):
        key = blob_key(sha)
        target = blobs_root / key
        if target.is_file():  # content addressed: the same name is the same bytes
            continue
        try:
            stream = raw_open(key)
            try:
                found, written = _copy_stream(stream, target)
            finally:
                stream.close()
            found_size = written
            if found != sha:  # sealed bytes: read the copy back through the decryption
                found, found_size = _sha256_stream(_open_plain(target, key))
        except Exception as error:
            target.unlink(missing_ok=True)
            problems.append({"blob": sha, "problem": f"{type(error).__name__}: {error}"[:300]})
            continue
        if found != sha or found_size != size:
            target.unlink(missing_ok=True)
            problems.append(
                {"blob": sha, "problem": _("changed in the store: %(found)s") % {"found": found}}
            )
            continue
        target.chmod(0o444)
        copied += 1
        copied_bytes += written
        if progress is not None:
            progress("blobs", n, len(blobs))
    return copied, copied_bytes, problems


def _write_manifest(work: Path, manifest: dict) -> None:
    path = work / MANIFEST
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    _fsync(path)


def _alert_backup(entry: BackupRecord, problems: list[dict]) -> None:
    raise_alert(
        kind=StorageAlert.Kind.BACKUP_FAILED,
        subject=f"backup:{entry.destination}/{entry.snapshot}",
        message=_("Backup %(snapshot)s at %(dest)s has %(n)d problems.")
        % {"snapshot": entry.snapshot, "dest": entry.destination, "n": len(problems)},
        details={"problems": problems[:100]},
    )


# --- Reading a snapshot back ---------------------------------------------------------------------
def find_snapshot(src, snapshot: str = "") -> Path:
    """The snapshot folder: ``src`` itself, ``src/snapshots/<snapshot>``, or the newest there."""
    src = Path(src).resolve()
    if (src / MANIFEST).is_file():
        return src
    snapshots = src / "snapshots"
    if snapshot:
        path = snapshots / snapshot
        if not (path / MANIFEST).is_file():
            raise BackupError(
                _("No snapshot %(name)s in %(src)s.") % {"name": snapshot, "src": src}
            )
        return path
    found = sorted(p for p in snapshots.glob("[0-9]*") if (p / MANIFEST).is_file())
    if not found:
        raise BackupError(_("No backup found in %(src)s.") % {"src": src})
    return found[-1]


def _blobs_root(snapshot_dir: Path) -> Path:
    return snapshot_dir.parent.parent / "blobs"


def load_manifest(snapshot_dir: Path) -> dict:
    try:
        manifest = json.loads((snapshot_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(_("The manifest cannot be read: %(error)s") % {"error": error}) from error
    if manifest.get("format") != FORMAT:
        raise BackupError(
            _("Not a Dangan backup manifest (%(format)s).") % {"format": manifest.get("format")}
        )
    return manifest


def _safe_relative(path: str) -> Path:
    relative = Path(path)
    if relative.is_absolute() or ".." in relative.parts:
        raise BackupError(
            _("The manifest names a file outside the snapshot: %(path)s") % {"path": path}
        )
    return relative


def check_snapshot(snapshot_dir: Path, manifest: dict, progress: Progress = None) -> list[dict]:
    """Every file the manifest names, read whole and compared with its digest: the problems."""
    problems = []

    def check(path: Path, sha: str, size: int, what: str, *, blob: bool = False):
        try:
            if blob:
                found, found_size = _sha256_stream(_open_plain(path, blob_key(sha)))
            else:
                found, found_size = _sha256_file(path)
        except Exception as error:  # unreadable, or sealed bytes that do not open
            problems.append({"file": what, "problem": f"{type(error).__name__}: {error}"[:300]})
            return
        if found != sha or found_size != size:
            problems.append({"file": what, "problem": _("digest or size differs")})

    database = manifest["database"]
    check(
        snapshot_dir / _safe_relative(database["file"]),
        database["sha256"],
        database["size"],
        database["file"],
    )
    for f in manifest["data_files"]:
        check(
            snapshot_dir / "data" / _safe_relative(f["path"]),
            f["sha256"],
            f["size"],
            f"data/{f['path']}",
        )
    blobs_root = _blobs_root(snapshot_dir)
    listed = manifest["blobs"]["list"]
    for n, (sha, size) in enumerate(listed, start=1):
        if not re.fullmatch(r"[0-9a-f]{64}", str(sha)):
            raise BackupError(
                _("The manifest names a blob that is no SHA-256: %(sha)s") % {"sha": sha}
            )
        check(blobs_root / blob_key(sha), sha, size, f"blobs/{sha}", blob=True)
        if progress is not None:
            progress("check", n, len(listed))
    return problems


def verify_backup(
    *, entry: BackupRecord | None = None, src=None, snapshot: str = "", progress: Progress = None
) -> dict:
    """Read a snapshot back whole; note the result in the register (and alert when it fails)."""
    if entry is not None:
        src, snapshot = Path(entry.destination), entry.snapshot
    snapshot_dir = find_snapshot(src, snapshot)
    manifest = load_manifest(snapshot_dir)
    problems = check_snapshot(snapshot_dir, manifest, progress)
    if entry is None:
        entry = BackupRecord.objects.filter(snapshot=manifest.get("snapshot")).first()
    if entry is not None:
        entry.verified_at, entry.verified_ok = timezone.now(), not problems
        entry.save(update_fields=["verified_at", "verified_ok"])
        if problems:
            _alert_backup(entry, problems)
    return {"snapshot": manifest.get("snapshot"), "path": str(snapshot_dir), "problems": problems}


# --- Restore -------------------------------------------------------------------------------------
def _database_is_empty() -> bool:
    with connection.cursor() as cursor:
        return not connection.introspection.table_names(cursor)


def restore(*, src, snapshot: str = "", progress: Progress = None) -> dict:
    """Bring the snapshot at ``src`` up as this (empty) instance; a summary of what was restored."""
    clock = time.monotonic()
    snapshot_dir = find_snapshot(src, snapshot)
    manifest = load_manifest(snapshot_dir)
    problems = manifest.get("problems") or []
    problems += check_snapshot(snapshot_dir, manifest, progress)
    if problems:
        raise BackupError(
            _("The backup is not whole; nothing was restored: %(problems)s")
            % {
                "problems": "; ".join(
                    f"{p.get('file') or p.get('blob')}: {p['problem']}" for p in problems[:20]
                )
            }
        )
    engine = manifest["database"]["engine"]
    if engine != connection.vendor:
        raise BackupError(
            _("This backup is of a %(engine)s database; the configured database is %(vendor)s.")
            % {"engine": engine, "vendor": connection.vendor}
        )
    if not _database_is_empty():
        raise BackupError(
            _("The configured database is not empty: restore into a new, empty database.")
        )
    data_root = Path(settings.DATA_DIR).resolve()
    for f in manifest["data_files"]:
        target = data_root / _safe_relative(f["path"])
        if (
            target.exists()
            and f["path"] not in _REPLACEABLE
            and _sha256_file(target)[0] != f["sha256"]
        ):
            raise BackupError(
                _("%(path)s exists and differs from the backup: use an empty data folder.")
                % {"path": target}
            )
    _restore_database(snapshot_dir / manifest["database"]["file"], engine)
    for f in manifest["data_files"]:
        target = data_root / _safe_relative(f["path"])
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(snapshot_dir / "data" / f["path"], target)
    restored_blobs = _restore_blobs(_blobs_root(snapshot_dir), manifest["blobs"]["list"], progress)
    call_command("migrate", interactive=False, verbosity=0)
    return {
        "snapshot": manifest.get("snapshot"),
        "engine": engine,
        "data_files": len(manifest["data_files"]),
        "blobs": len(manifest["blobs"]["list"]),
        "blobs_copied": restored_blobs,
        "counts": _restored_counts(),
        "counts_in_backup": manifest.get("counts", {}),
        "seconds": round(time.monotonic() - clock, 3),
    }


def _restored_counts() -> dict:
    with connection.cursor() as cursor:
        return _counts(cursor)


def _restore_database(dump: Path, engine: str) -> None:
    if engine == "sqlite":
        target = Path(connection.settings_dict["NAME"])
        connection.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".partial-{target.name}")
        shutil.copyfile(dump, partial)
        _fsync(partial)
        os.replace(partial, target)
        return
    args, env = _pg_command_env()
    done = subprocess.run(
        ["pg_restore", *args, "--no-owner", "--no-privileges", "--exit-on-error",
         "--single-transaction", f"--dbname={connection.settings_dict['NAME']}", str(dump)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode:
        raise BackupError(_("pg_restore failed: %(error)s") % {"error": done.stderr.strip()})
    connection.close()


def _restore_blobs(blobs_root: Path, listed: list, progress: Progress) -> int:
    """Stream every blob the configured store lacks into it; the store re-digests each."""
    store = get_store()
    copied = 0
    for n, (sha, _size) in enumerate(listed, start=1):
        key = blob_key(sha)
        if store.exists(key):
            continue
        # Plain bytes in: an encrypting store seals them again under its own current key.
        source = _open_plain(blobs_root / key, key)
        try:
            with store.receive() as incoming:
                while chunk := source.read(CHUNK_BYTES):
                    incoming.write(chunk)
                stored = incoming.commit()
        finally:
            source.close()
        if stored.sha256 != sha:
            raise ValidationError(_("Blob %(sha)s changed while it was restored.") % {"sha": sha})
        copied += 1
        if progress is not None:
            progress("restore", n, len(listed))
    return copied


# --- The register ---------------------------------------------------------------------------------
def update_backup_medium(*, actor, entry: BackupRecord, location: str, note: str) -> BackupRecord:
    """Record where a backup medium is now kept (taken off site, back in the safe) and a note."""
    from .alerts import may_handle_alerts

    if not may_handle_alerts(actor):
        raise PermissionDenied(_("You may not change the backup-media register."))
    with transaction.atomic():
        entry = BackupRecord.objects.select_for_update().get(pk=entry.pk)
        before = {"location": entry.location, "note": entry.note}
        entry.location, entry.note = location.strip()[:200], note.strip()
        entry.save(update_fields=["location", "note"])
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=entry,
            before=before,
            after={"location": entry.location, "note": entry.note},
        )
    return entry
