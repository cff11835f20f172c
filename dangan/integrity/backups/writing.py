"""Writing a snapshot (``dangan backup``): the database, the data files, the blobs the medium
lacks (each re-hashed on the way), the manifest; then the register, and a read-back."""

import datetime
import getpass
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.content.stores import CHUNK_BYTES, blob_key, get_store

from ..models import BackupRecord
from .checking import alert_backup, verify_backup
from .database import pg_snapshot, sqlite_snapshot
from .snapshot import (
    FORMAT,
    MANIFEST,
    BackupError,
    Progress,
    fsync,
    open_plain,
    sha256_file,
    sha256_stream,
)

#: Files of DANGAN_DATA_DIR that are the database itself or are made again by the software.
_SKIP_SUFFIXES = (".sqlite3", ".sqlite3-wal", ".sqlite3-shm", ".sqlite3-journal")


def _snapshot_id(snapshots: Path) -> str:
    base = timezone.now().astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    name, n = base, 1
    while (snapshots / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


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
    manifest_sha256, manifest_size = sha256_file(snapshots / snapshot / MANIFEST)
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
        alert_backup(entry, manifest["problems"])
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
        blobs, counts = sqlite_snapshot(db_file)
    elif engine == "postgresql":
        db_file = work / "database.pgdump"
        blobs, counts = pg_snapshot(db_file)
    else:
        raise BackupError(
            _("Backups know SQLite and PostgreSQL, not %(engine)s.") % {"engine": engine}
        )
    db_sha256, db_size = sha256_file(db_file)
    written = db_size
    skip = [Path(settings.CONTENT_DIR), Path(settings.STATIC_ROOT), settings.DANGAN_SCAN_ROOT, dest]
    skip += _kek_files()
    data_files = []
    for path in _data_files(skip):
        relative = path.relative_to(Path(settings.DATA_DIR).resolve())
        target = work / "data" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        sha, size = sha256_file(target)
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


def _kek_files() -> list[Path]:
    """The key-encryption keys never go to the backup medium beside the data they protect
    (docs/security.md): they are kept apart, in sealed envelopes."""
    files = [Path(settings.DATA_DIR) / "content-kek"]
    if getattr(settings, "DANGAN_CONTENT_KEK_FILE", ""):
        files.append(Path(settings.DANGAN_CONTENT_KEK_FILE))
    return files


def _raw_open(store):
    """How to open a blob *as stored*: under encryption at rest (``content.encryption``) the
    sealed bytes, so that a backup medium never holds the plain content of an encrypted store."""
    from dangan.content import stores

    encrypting = getattr(stores, "EncryptingStore", None)
    if encrypting is not None and isinstance(store, encrypting):
        return super(encrypting, store).open
    return store.open


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
                found, found_size = sha256_stream(open_plain(target, key))
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
    fsync(path)
