"""Restoring (``dangan restore``): check the snapshot before touching anything, refuse a
database that is not empty or a data file that would be overwritten, then bring the database,
the data files and the blobs into the configured (empty) instance and migrate it."""

import shutil
import time
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.utils.translation import gettext as _

from dangan.alerts import services as security_alerts
from dangan.content.stores import CHUNK_BYTES, blob_key, get_store

from .checking import check_snapshot
from .database import count_rows, restore_database
from .snapshot import (
    BackupError,
    Progress,
    blobs_root_of,
    find_snapshot,
    load_manifest,
    open_plain,
    safe_relative,
    sha256_file,
)

#: Data files a fresh instance makes for itself at its first start, which a restore replaces.
_REPLACEABLE = {"secret_key"}


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
        target = data_root / safe_relative(f["path"])
        if (
            target.exists()
            and f["path"] not in _REPLACEABLE
            and sha256_file(target)[0] != f["sha256"]
        ):
            raise BackupError(
                _("%(path)s exists and differs from the backup: use an empty data folder.")
                % {"path": target}
            )
    restore_database(snapshot_dir / manifest["database"]["file"], engine)
    for f in manifest["data_files"]:
        target = data_root / safe_relative(f["path"])
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(snapshot_dir / "data" / f["path"], target)
    restored_blobs = _restore_blobs(
        blobs_root_of(snapshot_dir), manifest["blobs"]["list"], progress
    )
    call_command("migrate", interactive=False, verbosity=0)
    security_alerts.raise_alert(
        kind=security_alerts.Kind.RESTORE,
        summary=_("This instance was restored from the backup %(snapshot)s.")
        % {"snapshot": manifest.get("snapshot") or snapshot_dir.name},
        detail={"snapshot": manifest.get("snapshot"), "engine": engine},
    )
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


def _restore_blobs(blobs_root: Path, listed: list, progress: Progress) -> int:
    """Stream every blob the configured store lacks into it; the store re-digests each."""
    store = get_store()
    copied = 0
    for n, (sha, _size) in enumerate(listed, start=1):
        key = blob_key(sha)
        if store.exists(key):
            continue
        # Plain bytes in: an encrypting store seals them again under its own current key.
        source = open_plain(blobs_root / key, key)
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


def _database_is_empty() -> bool:
    with connection.cursor() as cursor:
        return not connection.introspection.table_names(cursor)


def _restored_counts() -> dict:
    with connection.cursor() as cursor:
        return count_rows(cursor)
