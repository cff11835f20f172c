"""The ``dangan`` command with broken and hostile input: a failure is exit status 1 and one line
on stderr that says what failed (ID numbers masked), never a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dangan.cli import failure_line

ROOT = Path(__file__).resolve().parents[1]


def _dangan(tmp_path, *args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DANGAN_DATA_DIR=str(tmp_path / "data"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        DJANGO_SETTINGS_MODULE="dangan.settings",
    )
    return subprocess.run(
        [sys.executable, "-m", "dangan.cli", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli")
    (path / "junk.tar").write_bytes(b"\x00garbage" * 100)
    (path / "half.tar").write_bytes(b"ustar" + b"\x00" * 700)
    migrated = _dangan(path, "migrate", "--no-input", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr
    return path


@pytest.mark.parametrize(
    "args, says",
    [
        (["backup", "/proc/no/such/place"], "No such file"),
        (["import-transfer", "junk.tar"], "junk.tar"),
        (["import-transfer", "no-such.tar"], "no-such.tar"),
        (["package", "receive", "half.tar"], "half.tar"),
        (["check", "--stage", "transfer", "junk.tar"], "junk.tar"),
        (["restore", "junk.tar"], "junk.tar"),
        (["pages", "99999"], "99999"),
    ],
)
def test_a_failing_command_says_why_in_one_line(instance, args, says):
    done = _dangan(instance, *args)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1 and says in lines[0], done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_the_failure_line_masks_id_numbers():
    error = FileNotFoundError("no file 110101198001011234.xlsx\nsecond line")
    line = failure_line("import-catalogue", error)
    assert "\n" not in line and "110101198001011234" not in line
    assert line.startswith("dangan import-catalogue: FileNotFoundError:")
