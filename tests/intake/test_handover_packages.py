"""Offline packages: a town writes a signed BagIt package; the archive refuses any change to it
and names what changed — a changed byte, a missing file, an extra file, a wrong signature."""

import io
import json
import tarfile

import pytest
from django.core.management import call_command

from dangan.intake import handover as services
from dangan.intake import packages
from dangan.intake.models import HandoverList
from dangan.integrity.models import CheckReport

pytestmark = pytest.mark.usefixtures("content_dir")


@pytest.fixture
def town_key(town, tmp_path):
    path = tmp_path / "town.key"
    packages.create_key(actor=None, unit=town, path=path)
    return path


@pytest.fixture
def package(town_clerk, fonds, category, scan, id_number, town_key, tmp_path):
    handover = services.create_list(
        actor=town_clerk, fonds=fonds, category=category, title="离线移交"
    )
    for n in (1, 2, 3):
        services.add_item(
            actor=town_clerk,
            handover=handover,
            values={
                "date": f"2023-0{n}-15",
                "responsible": "城关镇社保所",
                "legacy_number": f"P-{n}",
            },
            persons=[{"id_number": id_number(), "name": f"测试{n}"}],
            files=[
                (f"scan{n}.jpg", io.BytesIO(scan(n))),
                (f"scan{n}b.jpg", io.BytesIO(scan(n + 9))),
            ],
        )
    path = tmp_path / "handover.tar"
    packages.create_package(
        actor=town_clerk,
        handover=handover,
        key=packages.load_private_key(town_key),
        destination=path,
    )
    return path


def _rewrite(path, *, drop=None, add=None, change=None):
    """Write the tar again: without member ``drop``, with ``add`` = (name, bytes), or with
    ``change`` = (name, function of its bytes)."""
    with tarfile.open(path) as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar]
    root = members[0][0].name.split("/")[0]
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for member, data in members:
            inner = member.name.split("/", 1)[1]
            if inner == drop:
                continue
            if change and inner == change[0]:
                data = change[1](data)
                member.size = len(data)
            tar.addfile(member, io.BytesIO(data) if data is not None else None)
        if add:
            info = tarfile.TarInfo(f"{root}/{add[0]}")
            info.size = len(add[1])
            tar.addfile(info, io.BytesIO(add[1]))


def _failed(path):
    run, _info = packages.check_package(path)
    return {o.check_id: o for o in run.outcomes if o.verdict == "fail"}


def test_untouched_package_passes_and_is_received_as_a_sent_list(package, town, archivist):
    run, info = packages.check_package(package, verify_sm3=True)
    assert run.passed, [(o.check_id, o.evidence) for o in run.outcomes if o.verdict == "fail"]
    assert {o.check_id: o.verdict for o in run.outcomes}["YJ-1-2"] == "pass"
    assert (run.items, run.files) == (3, 8)  # six scans and the metadata as JSON and XML
    HandoverList.objects.filter(uid=info["External-Identifier"]).delete()  # as at the archive
    received = packages.receive_package(actor=archivist, source=package)
    handover = received.handover
    assert handover.state == HandoverList.State.SENT and handover.unit == town
    assert [i.files.count() for i in handover.items.all()] == [2, 2, 2]
    assert received.report.subject_id == str(handover.pk) and received.report.passed


def _refused(path) -> packages.PackageRefused:
    """The one-line refusal of a package that is no sound bag; nothing is kept of it."""
    HandoverList.objects.all().delete()  # as at the archive, which has not got the list yet
    with pytest.raises(packages.PackageRefused) as refused:
        packages.receive_package(actor=None, source=path)
    assert not CheckReport.objects.exists() and not HandoverList.objects.exists()
    assert "\n" not in refused.value.messages[0]
    return refused.value


def test_one_changed_byte_is_refused_for_that_files_digest(package):
    name = "data/items/0002/0001.jpg"
    with tarfile.open(package) as tar:
        member = tar.getmember(f"{tar.getnames()[0].split('/')[0]}/{name}")
    with open(package, "r+b") as raw:
        raw.seek(member.offset_data + 100)
        byte = raw.read(1)
        raw.seek(member.offset_data + 100)
        raw.write(bytes([byte[0] ^ 1]))
    refused = _refused(package)
    assert refused.file == name and "SHA-256" in refused.reason


def test_a_changed_list_is_refused_before_it_is_read(package):
    _rewrite(package, change=(packages.JSON_PATH, lambda data: b"[" + data[1:]))
    refused = _refused(package)
    assert refused.file == packages.JSON_PATH and "SHA-256" in refused.reason


def test_a_missing_file_is_named(package):
    _rewrite(package, drop="data/items/0003/0002.jpg")
    refused = _refused(package)
    assert refused.file == "data/items/0003/0002.jpg" and "not in the package" in refused.reason


def test_an_extra_file_is_named(package, scan):
    _rewrite(package, add=("data/items/0001/0003.jpg", scan(77)))
    refused = _refused(package)
    assert refused.file == "data/items/0001/0003.jpg" and "no manifest" in refused.reason


def test_a_wrong_signature_is_refused(package, town, tmp_path):
    """Signed with a key that is registered, but to another unit."""
    other = packages.load_private_key(_other_key(town, tmp_path))
    with tarfile.open(package) as tar:
        root = tar.getnames()[0].split("/")[0]
        tagmanifest = tar.extractfile(f"{root}/tagmanifest-sha256.txt").read()
    signature = other.sign(tagmanifest)
    _rewrite(package, change=(packages.SIGNATURE_FILE, lambda _old: signature))
    assert _refused(package).file == packages.SIGNATURE_FILE


def test_a_signature_that_does_not_verify_is_refused(package):
    _rewrite(
        package,
        change=(
            packages.SIGNATURE_FILE,
            # another hex digit (not the same one in the other case): r changes for sure
            lambda old: old[:10] + (b"1" if old[10:11] == b"0" else b"0") + old[11:],
        ),
    )
    refused = _refused(package)
    assert refused.file == packages.SIGNATURE_FILE and "does not verify" in refused.reason


def test_a_changed_manifest_breaks_tag_fixity(package):
    _rewrite(
        package,
        change=("bag-info.txt", lambda data: data.replace(b"Dangan-Items: 3", b"Dangan-Items: 2")),
    )
    refused = _refused(package)
    assert refused.file == "bag-info.txt" and "tagmanifest-sha256.txt" in refused.reason


def test_receive_command_refuses_with_one_line_and_json(package, capsys):
    _rewrite(package, drop="data/items/0001/0001.jpg")
    with pytest.raises(SystemExit) as exit:
        call_command("package", "receive", str(package), "--json", "--check-only")
    assert exit.value.code == 1
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] is False and report["refused"].startswith("data/items/0001/0001.jpg")


def _other_key(town, tmp_path):
    """A key that is not the town's: made for another unit."""
    from dangan.accounts.models import Unit

    other = Unit.objects.create(code="T09", name="别的镇", kind=Unit.Kind.TOWN)
    path = tmp_path / "other.key"
    packages.create_key(actor=None, unit=other, path=path)
    return path


def test_packages_are_signed_with_sm2_and_an_older_ed25519_key_still_signs(
    package, town, town_clerk, tmp_path
):
    with tarfile.open(package) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
        root = tar.getnames()[0].split("/")[0]
        info = tar.extractfile(f"{root}/bag-info.txt").read().decode()
    assert "signature-sm2.txt" in names and "signature-ed25519.txt" not in names
    assert "Dangan-Signature-Algorithm: SM2" in info
    assert packages.receive_package(actor=None, source=package, file_it=False).passed

    # A town that made its key before SM2 keeps using it until it makes a new one.
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from dangan.intake.models import SigningKey

    old = Ed25519PrivateKey.generate()
    path = tmp_path / "old.pem"
    path.write_bytes(
        old.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key = packages.load_private_key(path)
    raw = old.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    SigningKey.objects.create(
        unit=town,
        algorithm="ed25519",
        public_key=base64.b64encode(raw).decode(),
        fingerprint=key.fingerprint,
    )
    handover = HandoverList.objects.get()
    older = tmp_path / "older.tar"
    packages.create_package(actor=town_clerk, handover=handover, key=key, destination=older)
    with tarfile.open(older) as tar:
        assert any(name.endswith("/signature-ed25519.txt") for name in tar.getnames())
    assert packages.receive_package(actor=None, source=older, file_it=False).passed

    # Bag-info cannot talk the archive into checking an SM2 package as Ed25519.
    _rewrite(
        package,
        change=(
            "bag-info.txt",
            lambda data: data.replace(b"Algorithm: SM2", b"Algorithm: Ed25519"),
        ),
    )
    with pytest.raises(packages.PackageRefused):
        packages.receive_package(actor=None, source=package, file_it=False)


def test_a_file_that_is_no_key_is_refused_clearly(tmp_path):
    from django.core.exceptions import ValidationError

    path = tmp_path / "notes.txt"
    path.write_text("not a key\n")
    with pytest.raises(ValidationError) as refused:
        packages.load_private_key(path)
    assert refused.value.code == "key_kind"


def test_a_revoked_key_signs_no_more_packages(package, capsys):
    from dangan.intake.models import SigningKey

    key = SigningKey.objects.get()
    call_command("package", "keys")
    assert f"sm2      {key.fingerprint}" in capsys.readouterr().out
    call_command("package", "revoke", key.fingerprint[:16])
    assert "revoked" in capsys.readouterr().out
    with pytest.raises(packages.PackageRefused) as refused:
        packages.receive_package(actor=None, source=package, file_it=False)
    assert refused.value.file == packages.SIGNATURE_FILE and "revoked" in refused.value.reason


def _resign(path, town_key, change):
    """The package written again as a sound bag, signed with the town's own key, after
    ``change`` edited its payload (a dict of ``data/…`` names to bytes)."""
    with tarfile.open(path) as tar:
        files = [(m.name.split("/", 1)[1], tar.extractfile(m).read()) for m in tar if m.isfile()]
        root = tar.getnames()[0].split("/")[0]
    info = dict(
        line.split(": ", 1)
        for line in dict(files)["bag-info.txt"].decode().splitlines()
        if not line.startswith("Payload-Oxum")
    )
    payload = {name: data for name, data in files if name.startswith("data/")}
    change(payload)
    packages.write_bag(
        path,
        root=root,
        info=info,
        payload=[packages.payload_bytes(n, d) for n, d in payload.items()],
        key=packages.load_private_key(town_key),
    )


@pytest.mark.parametrize(
    "edit, where",
    [
        (lambda meta: "not json", "not valid JSON"),
        (lambda meta: meta.pop("items"), "at items"),
        (lambda meta: meta["items"][1].update(position="2"), "items[1].position"),
        (lambda meta: meta["items"][0]["files"][0].update(path="data/../../etc/passwd"), "path"),
        (lambda meta: meta["items"][2].update(position=1), "position"),
    ],
    ids=["not-json", "no-items", "position-text", "unknown-path", "same-position"],
)
def test_a_signed_list_not_shaped_as_dangan_writes_it_is_refused(package, town_key, edit, where):
    def change(payload):
        meta = json.loads(payload[packages.JSON_PATH])
        edited = edit(meta)
        text = edited if isinstance(edited, str) else json.dumps(meta)
        payload[packages.JSON_PATH] = text.encode()

    _resign(package, town_key, change)
    refused = _refused(package)
    assert refused.file == packages.JSON_PATH and where in refused.reason


def test_the_web_form_refuses_a_broken_package_with_a_message(package, archivist, logged_in):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = logged_in(archivist)
    HandoverList.objects.all().delete()
    for name, data in [
        ("empty.tar", b""),
        ("half.tar", package.read_bytes()[:5000]),
        ("page.tar", b"<html>" * 100),
    ]:
        answer = client.post(
            "/intake/handover/package/", {"package": SimpleUploadedFile(name, data)}
        )
        assert answer.status_code == 200 and 'class="errorlist' in answer.content.decode()
    assert not HandoverList.objects.exists() and not CheckReport.objects.exists()
