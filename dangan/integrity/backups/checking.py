"""Reading a snapshot back whole (``dangan backup --verify``, and after every backup): every
file against the manifest's digest; the register notes the result, a failure raises an alert."""

import re
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.content.stores import blob_key

from ..alerts import raise_alert
from ..models import BackupRecord, StorageAlert
from .snapshot import (
    BackupError,
    Progress,
    blobs_root_of,
    find_snapshot,
    load_manifest,
    open_plain,
    safe_relative,
    sha256_file,
    sha256_stream,
)


def check_snapshot(snapshot_dir: Path, manifest: dict, progress: Progress = None) -> list[dict]:
    """Every file the manifest names, read whole and compared with its digest: the problems."""
    problems = []

    def check(path: Path, sha: str, size: int, what: str, *, blob: bool = False):
        try:
            if blob:
                found, found_size = sha256_stream(open_plain(path, blob_key(sha)))
            else:
                found, found_size = sha256_file(path)
        except Exception as error:  # unreadable, or sealed bytes that do not open
            problems.append({"file": what, "problem": f"{type(error).__name__}: {error}"[:300]})
            return
        if found != sha or found_size != size:
            problems.append({"file": what, "problem": _("digest or size differs")})

    database = manifest["database"]
    check(
        snapshot_dir / safe_relative(database["file"]),
        database["sha256"],
        database["size"],
        database["file"],
    )
    for f in manifest["data_files"]:
        check(
            snapshot_dir / "data" / safe_relative(f["path"]),
            f["sha256"],
            f["size"],
            f"data/{f['path']}",
        )
    blobs_root = blobs_root_of(snapshot_dir)
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
            alert_backup(entry, problems)
    return {"snapshot": manifest.get("snapshot"), "path": str(snapshot_dir), "problems": problems}


def alert_backup(entry: BackupRecord, problems: list[dict]) -> None:
    raise_alert(
        kind=StorageAlert.Kind.BACKUP_FAILED,
        subject=f"backup:{entry.destination}/{entry.snapshot}",
        message=_("Backup %(snapshot)s at %(dest)s has %(n)d problems.")
        % {"snapshot": entry.snapshot, "dest": entry.destination, "n": len(problems)},
        details={"problems": problems[:100]},
    )
