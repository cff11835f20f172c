"""A broken or hostile transfer package is refused with one line that names the file and what
failed, exit status 1, and nothing received: the bag is checked before any XML is parsed."""

import gzip
import io
import subprocess
import tarfile

import pytest
from django.core.management import call_command

from dangan.appraisal import transfer
from dangan.appraisal.models import Transfer
from dangan.audit.models import AuditEvent
from dangan.catalogue.models import Record
from dangan.content.models import Blob
from dangan.intake.packages import payload_bytes, write_bag
from dangan.integrity.models import CheckReport, LedgerEntry

pytestmark = pytest.mark.django_db
MODELS = (Record, Blob, Transfer, CheckReport, LedgerEntry, AuditEvent)


@pytest.fixture
def package(expired, category, tmp_path):
    """A package of three records as ``dangan export-transfer`` writes it; the records then
    lose their codes, so that the package could be received here again."""
    records = [expired(), expired(person=None), expired(person=None)]
    exported = transfer.export_transfer(
        actor=None, category=category, year=2001, destination=tmp_path / "out"
    )
    Record.objects.filter(pk__in=[r.pk for r in records]).update(archival_code=None)
    return exported.transfer.path


def _read(path) -> tuple[str, list]:
    """The package's root directory and its files as (name inside the root, bytes)."""
    with tarfile.open(path) as tar:
        files = [(m.name, tar.extractfile(m).read()) for m in tar if m.isfile()]
    root = files[0][0].split("/")[0]
    return root, [(name.split("/", 1)[1], data) for name, data in files]


def _rebag(path, destination, change) -> str:
    """The package written again as a sound bag (manifests made anew) after ``change`` edited
    its payload: a dict of ``data/…`` names to bytes."""
    root, files = _read(path)
    info = dict(
        line.split(": ", 1)
        for line in dict(files)["bag-info.txt"].decode().splitlines()
        if not line.startswith("Payload-Oxum")
    )
    payload = {name: data for name, data in files if name.startswith("data/")}
    change(payload)
    write_bag(
        destination,
        root=root,
        info=info,
        payload=[payload_bytes(name, data) for name, data in payload.items()],
    )
    return str(destination)


def _counts() -> list:
    return [model.objects.count() for model in MODELS]


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def _import_refused(source, capsys) -> str:
    """Run ``dangan import-transfer``: exit 1 and one line on stderr, which is returned."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit:
        call_command("import_transfer", str(source))
    assert exit.value.code == 1
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


def _member(name, data=b"", **attributes) -> tuple:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in attributes.items():
        setattr(info, key, value)
    return info, io.BytesIO(data) if data else None


def _with(path, destination, *extra) -> str:
    """The package with ``extra`` (TarInfo, stream) members appended."""
    with tarfile.open(path) as source, tarfile.open(destination, "w") as target:
        for member in source:
            target.addfile(member, source.extractfile(member) if member.isfile() else None)
        for info, stream in extra:
            target.addfile(info, stream)
    return str(destination)


# --- Refused as a bag: nothing at all is kept ----------------------------------------------------
def test_one_changed_byte_in_an_eep_is_refused_for_its_manifest_before_any_xml_is_read(
    package, tmp_path, capsys
):
    with tarfile.open(package) as tar:
        eep = next(m for m in tar if m.name.endswith(".eep"))
    with open(package, "r+b") as raw:  # a byte inside the XML: unparseable if it were parsed
        raw.seek(eep.offset_data + 1)
        raw.write(b"\x00")
    before = _counts()
    line = _import_refused(package, capsys)
    assert line.startswith(eep.name.split("/", 1)[1] + ": SHA-256")
    assert _counts() == before


@pytest.mark.parametrize(
    "make, names",
    [
        (lambda p, d: _write(d, p.read_bytes()[: len(p.read_bytes()) // 2]), "cut short"),
        (lambda p, d: _write(d, b""), "tar"),
        (lambda p, d: _write(d, b"<xml>not a tar at all</xml>" * 40), "tar"),
        (lambda p, d: _write(d, gzip.compress(p.read_bytes())), "not a tar"),
    ],
    ids=["truncated", "empty", "not-a-tar", "compressed"],
)
def test_a_broken_tar_is_refused(package, tmp_path, capsys, make, names):
    from pathlib import Path

    broken = make(Path(package), tmp_path / "broken.tar")
    before = _counts()
    assert names in _import_refused(broken, capsys)
    assert _counts() == before


@pytest.mark.parametrize(
    "member, says",
    [
        (lambda root: _member(f"{root}/../../etc/cron.d/evil", b"* * * * * root sh"), "outside"),
        (lambda root: _member("/etc/cron.d/evil", b"x"), "outside"),
        (
            lambda root: _member(f"{root}/data/link", type=tarfile.SYMTYPE, linkname="/etc/shadow"),
            "link",
        ),
        (
            lambda root: _member(f"{root}/data/hard", type=tarfile.LNKTYPE, linkname="/etc/shadow"),
            "link",
        ),
        (lambda root: _member(f"{root}/data/fifo", type=tarfile.FIFOTYPE), "plain file"),
    ],
    ids=["dot-dot", "absolute", "symlink", "hardlink", "fifo"],
)
def test_a_member_no_bag_holds_is_refused(package, tmp_path, capsys, member, says):
    root, _files = _read(package)
    hostile = _with(package, tmp_path / "hostile.tar", member(root))
    before = _counts()
    line = _import_refused(hostile, capsys)
    assert says in line
    assert _counts() == before


def test_a_tar_bomb_is_refused(package, tmp_path, capsys, settings):
    # A sparse member: 20 GB when unpacked, 10 kB in the tar.
    (tmp_path / "bomb").mkdir()
    subprocess.run(["truncate", "-s", "20G", str(tmp_path / "bomb" / "zeros")], check=True)
    bomb = tmp_path / "bomb.tar"
    subprocess.run(
        ["tar", "--sparse", "-cf", str(bomb), "-C", str(tmp_path / "bomb"), "zeros"], check=True
    )
    assert bomb.stat().st_size < 100_000
    before = _counts()
    assert "sparse" in _import_refused(bomb, capsys)
    # And a package whose files add up to more than the configured limit.
    settings.DANGAN_PACKAGE_LIMITS = {"members": 1_000_000, "bytes": 10_000}
    assert "limits" in _import_refused(package, capsys)
    assert _counts() == before


def test_a_package_without_bagit_txt_is_refused(package, tmp_path, capsys):
    root, files = _read(package)
    bare = tmp_path / "bare.tar"
    with tarfile.open(bare, "w") as tar:
        for name, data in files:
            if name != "bagit.txt":
                tar.addfile(*_member(f"{root}/{name}", data))
    before = _counts()
    assert _import_refused(bare, capsys).startswith("bagit.txt: missing")
    assert _counts() == before


# --- A sound bag whose files are not what our schemas describe: refused by the checks -----------
def _eep_of(payload) -> str:
    return next(name for name in payload if name.endswith(".eep"))


@pytest.mark.parametrize(
    "change, says",
    [
        (lambda p: p.update({_eep_of(p): p[_eep_of(p)][:-40]}), "not well-formed XML"),
        (
            lambda p: p.update(
                {
                    n: b"<?xml version='1.0'?><record xmlns='urn:dangan:transfer:1'/>"
                    for n in p
                    if n.endswith("元数据.xml")
                }
            ),
            "元数据.xml",
        ),
        (lambda p: p.pop(_eep_of(p)), ".eep is missing"),
        (
            lambda p: p.update(
                {"data/目录文件.xml": p["data/目录文件.xml"].replace(b'"D10"', b'"D7"')}
            ),
            "目录文件.xml",
        ),
    ],
    ids=["malformed-eep", "metadata-outside-schema", "missing-eep", "catalogue-outside-schema"],
)
def test_a_sound_bag_with_broken_xml_is_refused_and_nothing_filed(
    package, tmp_path, capsys, change, says
):
    broken = _rebag(package, tmp_path / "broken.tar", change)
    records, blobs, transfers = (
        Record.objects.count(),
        Blob.objects.count(),
        Transfer.objects.count(),
    )
    ledger = LedgerEntry.objects.count()
    line = _import_refused(broken, capsys)
    assert says in line and "nothing was filed" in line
    assert (Record.objects.count(), Blob.objects.count(), Transfer.objects.count()) == (
        records,
        blobs,
        transfers,
    )
    assert LedgerEntry.objects.count() == ledger
    # The refusal's check report is kept: the archive's evidence of what it was sent and why
    # it was turned away (DA/T 70).
    assert not CheckReport.objects.order_by("-pk").first().passed


def test_json_output_says_the_refusal_in_one_field(package, tmp_path, capsys):
    with tarfile.open(package) as tar:
        eep = next(m for m in tar if m.name.endswith(".eep"))
    with open(package, "r+b") as raw:
        raw.seek(eep.offset_data + 100)
        raw.write(b"\x01")
    capsys.readouterr()
    with pytest.raises(SystemExit):
        call_command("import_transfer", package, "--json")
    import json

    answer = json.loads(capsys.readouterr().out)
    assert answer["passed"] is False and ": " in answer["refused"]
