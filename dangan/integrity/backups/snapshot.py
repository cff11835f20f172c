"""A snapshot on the backup medium: its format and manifest, the digests of its files, and
finding and reading one back. Used by writing, checking and restoring alike."""

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from django.utils.translation import gettext as _

from dangan.content.stores import CHUNK_BYTES

FORMAT = "dangan-backup/1"


MANIFEST = "manifest.json"


Progress = Callable[[str, int, int], None] | None


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


def sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    buffer = bytearray(CHUNK_BYTES)
    view = memoryview(buffer)
    with open(path, "rb") as f:
        while n := f.readinto(buffer):
            digest.update(view[:n])
            size += n
    return digest.hexdigest(), size


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_stream(stream) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    try:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    finally:
        stream.close()
    return digest.hexdigest(), size


def open_plain(path: Path, key: str):
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


def blobs_root_of(snapshot_dir: Path) -> Path:
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


def safe_relative(path: str) -> Path:
    relative = Path(path)
    if relative.is_absolute() or ".." in relative.parts:
        raise BackupError(
            _("The manifest names a file outside the snapshot: %(path)s") % {"path": path}
        )
    return relative
