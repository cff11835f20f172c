"""The database of a snapshot: copied as of one moment (SQLite's online backup API; on
PostgreSQL ``pg_dump`` of a snapshot exported from a repeatable-read transaction), with the list
of blobs read from that same moment, and brought back by a restore."""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connection
from django.utils.translation import gettext as _

from .snapshot import BackupError, fsync

#: Rows that matter, counted in the snapshot for the manifest and the restore's summary.
_COUNTED = {
    "records": "catalogue_record",
    "pages": "content_page",
    "blobs": "content_blob",
    "ledger": "integrity_ledgerentry",
}


def count_rows(cursor) -> dict:
    """The rows of ``_COUNTED`` through ``cursor`` (of the snapshot, or of this instance)."""
    counts = {}
    for name, table in _COUNTED.items():
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - names from _COUNTED
        counts[name] = cursor.fetchone()[0]
    return counts


def sqlite_snapshot(target: Path) -> tuple[list[tuple[str, int]], dict]:
    """Copy the live SQLite database with the online backup API (readers and writers go on) and
    read the blob list from the copy: the same moment, by construction."""
    source = sqlite3.connect(connection.settings_dict["NAME"], timeout=60)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        blobs = list(copy.execute("SELECT sha256, size FROM content_blob ORDER BY sha256"))
        return blobs, count_rows(copy.cursor())
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


def pg_snapshot(target: Path) -> tuple[list[tuple[str, int]], dict]:
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
            counts = count_rows(cursor)
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


def restore_database(dump: Path, engine: str) -> None:
    if engine == "sqlite":
        target = Path(connection.settings_dict["NAME"])
        connection.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".partial-{target.name}")
        shutil.copyfile(dump, partial)
        fsync(partial)
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
