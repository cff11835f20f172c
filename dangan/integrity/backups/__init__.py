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

from .checking import check_snapshot, verify_backup
from .register import update_backup_medium
from .restoring import restore
from .snapshot import FORMAT, MANIFEST, BackupError, find_snapshot, load_manifest
from .writing import backup

__all__ = [
    "FORMAT",
    "MANIFEST",
    "BackupError",
    "backup",
    "check_snapshot",
    "find_snapshot",
    "load_manifest",
    "restore",
    "update_backup_medium",
    "verify_backup",
]
