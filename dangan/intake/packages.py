"""Offline hand-over packages: a list written as a signed BagIt bag (RFC 8493) in one tar file.

A town on a poor line (or none) writes its list with ``dangan package create`` and carries or
sends the file later; the archive receives it with ``dangan package receive`` or the web form.

Layout (one top-level directory, as RFC 8493 asks of a serialised bag)::

    handover-<uuid>/bagit.txt
    handover-<uuid>/bag-info.txt              Source-Organization, Payload-Oxum, …
    handover-<uuid>/manifest-sha256.txt       every payload file
    handover-<uuid>/manifest-sm3.txt          the same files, SM3 (GB/T 32905)
    handover-<uuid>/tagmanifest-sha256.txt    the four files above
    handover-<uuid>/signature-sm2.txt         SM2 signature of tagmanifest-sha256.txt (hex r‖s)
    handover-<uuid>/data/metadata/handover.json   the list: items, values, persons, files
    handover-<uuid>/data/metadata/handover.xml    the same as XML (catalogue file)
    handover-<uuid>/data/items/0001/0001.jpg  the scans, item by item, page by page

The signature covers the tag manifest, which covers the manifests, which cover every file, so
one changed byte anywhere is found and named: a payload file fails its digest (YJ-1-1), a
changed manifest or bag-info fails the tag manifest (YJ-1-4), a changed tag manifest or another
key fails the signature (YJ-1-3); a missing file fails YJ-2-5, an added one YJ-4-2.
Signatures are SM2 (GB/T 32918, with SM3; ``security.sm2``), as the national rules want for
packages. A key made before SM2 (Ed25519, a PEM file) still signs and is still verified: its
packages carry ``signature-ed25519.txt`` (base64) and say ``Ed25519`` in bag-info.
"""

import base64
import dataclasses
import datetime
import hashlib
import io
import json
import os
import tarfile
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.accounts.models import Unit
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.catalogue.models import Category, Fonds
from dangan.content.services import ensure_sm3
from dangan.content.stores import get_store
from dangan.integrity import checks as integrity
from dangan.integrity.models import CheckReport
from dangan.integrity.services import keep_report
from dangan.security import sm2

from . import handover as handover_services
from . import selectors
from .models import HandoverItem, HandoverList, SigningKey

TAG_FILES = ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "manifest-sm3.txt")
#: bag-info's Dangan-Signature-Algorithm → (the key's algorithm, the signature file).
SIGNATURES = {
    "SM2": ("sm2", "signature-sm2.txt"),
    "Ed25519": ("ed25519", "signature-ed25519.txt"),
}
SIGNATURE_FILE = SIGNATURES["SM2"][1]
SIGNATURE_FILES = {file for _algorithm, file in SIGNATURES.values()}
JSON_PATH = "data/metadata/handover.json"
XML_PATH = "data/metadata/handover.xml"
#: Tag files are read into memory: none of ours is anywhere near this.
MAX_TAG_BYTES = 64 * 1024 * 1024
PACKAGE_SUBJECT = "intake.package"


# --- Keys ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnitKey:
    """A unit's private key as read from its file: SM2, or Ed25519 for a key made before."""

    name: str  # bag-info's Dangan-Signature-Algorithm: "SM2" or "Ed25519"
    secret: object  # sm2.KeyPair or Ed25519PrivateKey

    @property
    def signature_file(self) -> str:
        return SIGNATURES[self.name][1]

    @property
    def fingerprint(self) -> str:
        if self.name == "SM2":
            return sm2.fingerprint(self.secret.public)
        raw = self.secret.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return hashlib.sha256(raw).hexdigest()

    def sign(self, data: bytes) -> bytes:
        """The signature file's bytes for ``data``."""
        if self.name == "SM2":
            return sm2.sign(self.secret, data).encode() + b"\n"
        return base64.b64encode(self.secret.sign(data)) + b"\n"


def create_key(*, actor, unit: Unit, path) -> SigningKey:
    """A new SM2 key for ``unit``: the private key to ``path`` (mode 600: a comment line, then
    the private and the public key in hex), the public key registered with the archive, which
    will accept the unit's packages signed by it."""
    made = sm2.generate()
    descriptor = os.open(Path(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(
            sm2.key_text(made, f"Dangan SM2 signing key (GB/T 32918) of unit {unit.code}: secret")
        )
    with transaction.atomic():
        key = SigningKey.objects.create(
            unit=unit,
            algorithm=sm2.ALGORITHM,
            public_key=made.public,
            fingerprint=made.fingerprint,
        )
        record_event(actor=actor, action=AuditEvent.Action.CREATE, obj=key)
    return key


def revoke_key(*, actor, fingerprint: str) -> SigningKey:
    """Refuse packages signed with the key ``fingerprint`` (whole, or its first 16 digits)
    from now on; what it signed before stays received."""
    fingerprint = fingerprint.strip().lower()
    keys = list(
        SigningKey.objects.filter(
            fingerprint__startswith=fingerprint, revoked_at__isnull=True
        ).select_related("unit")[:2]
    )
    if len(fingerprint) < 16 or len(keys) != 1:
        raise ValidationError(
            _("No valid key has the fingerprint %(key)s.") % {"key": fingerprint[:64]},
            code="no_key",
        )
    key = keys[0]
    with transaction.atomic():
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=key,
            detail={"change": "revoked", "fingerprint": key.fingerprint},
        )
    return key


def load_private_key(path) -> UnitKey:
    """A unit's key file: SM2 (``create_key``), or an Ed25519 PEM key made before SM2."""
    data = Path(path).read_bytes()
    if data.startswith(b"-----BEGIN"):
        key = serialization.load_pem_private_key(data, password=None)
        if isinstance(key, Ed25519PrivateKey):
            return UnitKey(name="Ed25519", secret=key)
    else:
        pair = sm2.parse_key(data.decode("ascii", "replace"))
        if pair is not None:
            return UnitKey(name="SM2", secret=pair)
    raise ValidationError(_("The file is not a unit's signing key."), code="key_kind")


# --- Writing a package ---------------------------------------------------------------------------
def _metadata(handover: HandoverList, layout: list) -> dict:
    items = []
    for item, files in layout:
        items.append(
            {
                "position": item.position,
                "values": item.values,
                "metadata": item.metadata,
                "persons": item.persons,
                "files": [
                    {
                        "path": path,
                        "filename": f.filename,
                        "page": f.position,
                        "size": f.blob.size,
                        "sha256": f.blob.sha256,
                        "sm3": f.blob.sm3,
                        "format": f.blob.format_label,
                    }
                    for f, path in files
                ],
            }
        )
    return {
        "format": "dangan-handover/1",
        "identifier": str(handover.uid),
        "title": handover.title,
        "version": handover.version,
        "unit": {"code": handover.unit.code, "name": handover.unit.name},
        "fonds": handover.fonds.code,
        "category": handover.category.code,
        "items": items,
        "item_count": len(items),
        "bytes": sum(f.blob.size for _item, files in layout for f, _path in files),
    }


def _xml(meta: dict) -> bytes:
    root = ET.Element(
        "handover", {"identifier": meta["identifier"], "version": str(meta["version"])}
    )
    for key in ("title", "fonds", "category"):
        ET.SubElement(root, key).text = str(meta[key])
    ET.SubElement(root, "unit", {"code": meta["unit"]["code"]}).text = meta["unit"]["name"]
    items = ET.SubElement(root, "items", {"count": str(meta["item_count"])})
    for item in meta["items"]:
        node = ET.SubElement(items, "item", {"position": str(item["position"])})
        for key, value in sorted(item["values"].items()):
            ET.SubElement(node, "field", {"name": key}).text = str(value)
        for key, value in sorted(item["metadata"].items()):
            ET.SubElement(node, "field", {"name": key, "schema": "category"}).text = str(value)
        for person in item["persons"]:
            ET.SubElement(node, "person", {"id_number": person["id_number"]}).text = person["name"]
        for f in item["files"]:
            ET.SubElement(
                node,
                "file",
                {
                    "path": f["path"],
                    "page": str(f["page"]),
                    "size": str(f["size"]),
                    "sha256": f["sha256"],
                    "sm3": f["sm3"],
                },
            ).text = f["filename"]
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
    tar.addfile(info, io.BytesIO(data))


# --- BagIt bags, for any package the archive writes (hand-over lists, transfers) ---------------
@dataclass
class PayloadFile:
    """One payload file: its path in the bag (``data/…``), its digests and a way to read it."""

    path: str
    size: int
    sha256: str
    sm3: str
    open: object  # () -> binary stream of the file's bytes


def payload_bytes(path: str, data: bytes) -> PayloadFile:
    """A payload file made in memory (a metadata file), digested here."""
    from dangan.content.digests import sm3

    digest = sm3()
    digest.update(data)
    return PayloadFile(
        path=path,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        sm3=digest.hexdigest(),
        open=lambda: io.BytesIO(data),
    )


def write_bag(destination, *, root: str, info: dict, payload: list, key=None) -> bytes:
    """Write a bag (RFC 8493) as one tar file: tag files, manifests (SHA-256 and SM3) and the
    ``payload`` files streamed in order. ``info`` is bag-info (Payload-Oxum is added here);
    ``key`` (a ``UnitKey``), if given, signs the tag manifest. Returns the tag manifest, whose
    digest names the bag."""
    payload_size = sum(f.size for f in payload)
    info = {**info, "Payload-Oxum": f"{payload_size}.{len(payload)}"}
    tags = {
        "bagit.txt": b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
        "bag-info.txt": "".join(f"{k}: {v}\n" for k, v in info.items()).encode(),
        "manifest-sha256.txt": "".join(f"{f.sha256}  {f.path}\n" for f in payload).encode(),
        "manifest-sm3.txt": "".join(f"{f.sm3}  {f.path}\n" for f in payload).encode(),
    }
    tagmanifest = "".join(
        f"{hashlib.sha256(tags[name]).hexdigest()}  {name}\n" for name in TAG_FILES
    ).encode()
    now = int(time.time())
    with tarfile.open(destination, "w", format=tarfile.PAX_FORMAT) as tar:
        for name in TAG_FILES:
            _add_bytes(tar, f"{root}/{name}", tags[name])
        _add_bytes(tar, f"{root}/tagmanifest-sha256.txt", tagmanifest)
        if key is not None:
            _add_bytes(tar, f"{root}/{key.signature_file}", key.sign(tagmanifest))
        for f in payload:
            member = tarfile.TarInfo(f"{root}/{f.path}")
            member.size, member.mtime, member.mode = f.size, now, 0o644
            with f.open() as stream:
                tar.addfile(member, stream)
    return tagmanifest


def create_package(*, actor, handover: HandoverList, key: UnitKey, destination) -> dict:
    """Write ``handover`` as a signed bag to ``destination`` (a path); returns bag-info."""
    store = get_store()
    layout = []
    for item in selectors.items_with_files(handover):
        files = []
        for f in item.staged:
            ensure_sm3(f.blob)  # the manifest lists SM3: any not computed yet is computed now
            extension = os.path.splitext(f.filename)[1].lower()[:10]
            files.append((f, f"data/items/{item.position:04d}/{f.position:04d}{extension}"))
        layout.append((item, files))
    meta = _metadata(handover, layout)
    json_bytes = json.dumps(meta, ensure_ascii=False, indent=1).encode()
    payload = [payload_bytes(JSON_PATH, json_bytes), payload_bytes(XML_PATH, _xml(meta))]
    for _item, files in layout:
        for f, path in files:
            payload.append(
                PayloadFile(
                    path=path,
                    size=f.blob.size,
                    sha256=f.blob.sha256,
                    sm3=f.blob.sm3,
                    open=lambda key=f.blob.key: store.open(key),
                )
            )
    payload_bytes_total = sum(f.size for f in payload)
    info = {
        "Source-Organization": handover.unit.name,
        "Bagging-Date": datetime.date.today().isoformat(),
        "External-Identifier": str(handover.uid),
        "External-Description": handover.title,
        "Dangan-Unit": handover.unit.code,
        "Dangan-List-Version": str(handover.version),
        "Dangan-Items": str(meta["item_count"]),
        "Dangan-Signature-Algorithm": key.name,
        "Dangan-Key-Fingerprint": key.fingerprint,
    }
    write_bag(
        destination,
        root=f"handover-{handover.uid}",
        info=info,
        payload=payload,
        key=key,
    )
    info["Payload-Oxum"] = f"{payload_bytes_total}.{len(payload)}"
    record_event(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        obj=handover,
        detail={
            "package": str(handover.uid),
            "key": info["Dangan-Key-Fingerprint"],
            "bytes": payload_bytes_total,
        },
    )
    return info


# --- Reading and checking a package --------------------------------------------------------------
@dataclass
class Received:
    """What ``receive_package`` found: the check run, the kept report, the list filed (if any)."""

    run: integrity.Run
    report: CheckReport | None
    info: dict
    handover: HandoverList | None = None

    @property
    def passed(self) -> bool:
        return self.run.passed

    def as_dict(self) -> dict:
        return {
            "passed": self.run.passed,
            "failed": self.run.failed(),
            "identifier": self.info.get("External-Identifier", ""),
            "unit": self.info.get("Dangan-Unit", ""),
            "items": self.run.items,
            "files": self.run.files,
            "bytes": self.run.bytes,
            "seconds": round(self.run.seconds, 3),
            "report": self.report.pk if self.report else None,
            "handover": self.handover.pk if self.handover else None,
            "checks": [
                {
                    "id": o.check_id,
                    "property": o.property,
                    "name": o.name,
                    "verdict": o.verdict,
                    "summary": o.summary,
                    "evidence": o.evidence,
                }
                for o in self.run.outcomes
            ],
        }


def _manifest(data: bytes | None) -> dict:
    entries = {}
    for line in (data or b"").decode("utf-8", "replace").splitlines():
        digest, _sep, path = line.strip().partition(" ")
        if digest and path.strip():
            entries[path.strip()] = digest.lower()
    return entries


def _bag_info(data: bytes | None) -> dict:
    info = {}
    for line in (data or b"").decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            info[key.strip()] = value.strip()
    return info


class _Member:
    """One payload file inside the tar, read in place (a seek, then ``size`` bytes)."""

    def __init__(self, path, offset, size):
        self.path, self.offset, self.size = path, offset, size

    def open(self):
        stream = open(self.path, "rb")  # noqa: SIM115 - the check engine closes it
        stream.seek(self.offset)
        return stream


def _verify_signature(info: dict, tags: dict) -> tuple:
    name = info.get("Dangan-Signature-Algorithm", "")
    print_ = info.get("Dangan-Key-Fingerprint", "")
    if name not in SIGNATURES:
        return False, [_("Unknown signature algorithm “%(name)s”.") % {"name": name}]
    algorithm, signature_file = SIGNATURES[name]
    signature, tagmanifest = tags.get(signature_file), tags.get("tagmanifest-sha256.txt")
    if signature is None:
        return False, [_("missing: the package is not signed")]
    key = (
        SigningKey.objects.filter(fingerprint=print_, revoked_at__isnull=True)
        .select_related("unit")
        .first()
    )
    if key is None:
        return False, [
            _("The key %(key)s is not registered with the archive (or was revoked).")
            % {"key": print_[:16]}
        ]
    if key.unit.code != info.get("Dangan-Unit"):
        return False, [
            _("The key belongs to %(unit)s, not to the unit named in the package.")
            % {"unit": key.unit.code}
        ]
    if not _verifies(key, signature.strip(), tagmanifest or b"", algorithm):
        return False, [
            _("%(file)s does not verify tagmanifest-sha256.txt with the key of %(unit)s (%(key)s).")
            % {"file": signature_file, "unit": key.unit.code, "key": print_[:16]}
        ]
    return True, [
        _("Signed by %(unit)s, key %(key)s.") % {"unit": key.unit.name, "key": print_[:16]}
    ]


def _verifies(key: SigningKey, signature: bytes, data: bytes, algorithm: str) -> bool:
    if key.algorithm != algorithm:  # a key is registered for one algorithm only
        return False
    if algorithm == sm2.ALGORITHM:
        return sm2.verify(key.public_key, data, signature.decode("ascii", "replace"))
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key.public_key))
    try:
        public.verify(base64.b64decode(signature), data)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass
class Bag:
    """A bag's tag files read and checked, its payload files found in place (not read)."""

    info: dict
    tags: dict
    members: dict  # path in the bag ("data/…") -> _Member
    sha256: dict  # path -> digest, from manifest-sha256.txt
    sm3: dict
    foreign: list  # files that are not part of a bag
    tag_changes: list  # evidence lines: tag files missing or not matching the tag manifest

    @property
    def missing(self) -> list:
        """Listed in a manifest, not in the bag."""
        missing = sorted(name for name in self.sha256 if name not in self.members)
        return missing + sorted(
            f"{name} (manifest-sm3.txt)" for name in self.sm3 if name not in self.sha256
        )

    @property
    def extra(self) -> list:
        """In the bag, listed nowhere."""
        return sorted(self.foreign + [n for n in self.members if n not in self.sha256])

    @property
    def declared_bytes(self) -> int | None:
        oxum = self.info.get("Payload-Oxum", "").split(".")[0]
        return int(oxum) if oxum.isdigit() else None


class PackageRefused(ValidationError):
    """A package refused as a bag, before anything in its payload was read as data: one line
    that names the file and what failed. Nothing was received and nothing was kept."""

    def __init__(self, file: str, reason: str):
        self.file, self.reason = file, reason
        super().__init__(
            _("%(file)s: %(reason)s. The package was refused; nothing was received.")
            % {"file": file, "reason": reason},
            code="package_refused",
        )


def read_bag(path) -> Bag:
    """Read a bag written as one tar file (``write_bag``): tag files into memory, payload files
    located by their offset in the tar, so that checks read them in place.

    Refuses (``PackageRefused``) what is no plain tar of plain files: a broken or cut-short tar,
    a compressed one, a member outside the bag (``..``, an absolute path), a link, a device, a
    sparse file, more files or bytes than ``DANGAN_PACKAGE_LIMITS`` allow (a tar bomb)."""
    path = str(path)
    label = os.path.basename(path)
    limits = settings.DANGAN_PACKAGE_LIMITS
    tags, members, foreign = {}, {}, []
    try:
        length = os.path.getsize(path)
        tar = tarfile.open(path, "r:")
    except (OSError, tarfile.TarError) as error:
        raise PackageRefused(label, _("not a tar file (%(error)s)") % {"error": error}) from None
    count = total = 0
    roots = set()
    with tar:
        try:
            for member in tar:
                name = member.name
                _refuse_unsafe(member, length)
                root, _sep, inner = name.partition("/")
                roots.add(root)
                if member.isdir():
                    continue
                count, total = count + 1, total + member.size
                if count > limits["members"] or total > limits["bytes"]:
                    raise PackageRefused(
                        label,
                        _("unpacks to more than %(bytes)s bytes or %(files)s files, the limits")
                        % {"bytes": limits["bytes"], "files": limits["members"]},
                    )
                if not inner:
                    foreign.append(name)
                elif inner.startswith("data/"):
                    members[inner] = _Member(path, member.offset_data, member.size)
                elif inner in (*TAG_FILES, "tagmanifest-sha256.txt", *SIGNATURE_FILES):
                    if member.size > MAX_TAG_BYTES:
                        raise PackageRefused(name, _("far too large for a tag file"))
                    tags[inner] = tar.extractfile(member).read()
                else:
                    foreign.append(name)
        except (tarfile.TarError, EOFError, UnicodeError) as error:
            raise PackageRefused(
                label, _("a broken or cut-short tar file (%(error)s)") % {"error": error}
            ) from None
    if len(roots) > 1:
        foreign += sorted(roots)[1:]
    if not roots:
        raise PackageRefused(label, _("an empty tar file"))
    listed = _manifest(tags.get("tagmanifest-sha256.txt"))
    tag_changes = []
    for name in TAG_FILES:
        if name not in tags:
            tag_changes.append(_("%(file)s is missing.") % {"file": name})
        elif listed.get(name) != hashlib.sha256(tags[name]).hexdigest():
            tag_changes.append(
                _("%(file)s: SHA-256 in the tag manifest %(sent)s, received %(got)s")
                % {
                    "file": name,
                    "sent": listed.get(name, "—"),
                    "got": hashlib.sha256(tags[name]).hexdigest(),
                }
            )
    return Bag(
        info=_bag_info(tags.get("bag-info.txt")),
        tags=tags,
        members=members,
        sha256=_manifest(tags.get("manifest-sha256.txt")),
        sm3=_manifest(tags.get("manifest-sm3.txt")),
        foreign=foreign,
        tag_changes=tag_changes,
    )


def _refuse_unsafe(member: tarfile.TarInfo, length: int) -> None:
    """A package is read in place, never unpacked; still, what no bag of ours holds is refused."""
    name = member.name
    if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/"):
        raise PackageRefused(name, _("a path outside the package"))
    if member.issym() or member.islnk():
        raise PackageRefused(name, _("a link; a package holds plain files only"))
    if member.isdir():
        return
    if not member.isfile():
        raise PackageRefused(name, _("not a plain file (a device or a pipe)"))
    if member.issparse():
        raise PackageRefused(name, _("a sparse file, which unpacks to more than the tar holds"))
    if member.offset_data + member.size > length:
        raise PackageRefused(name, _("cut short: the tar file ends inside it"))


def bag_files(bag: Bag, *, metadata=lambda name: False) -> list:
    """The check engine's entry for each file of the manifest found in the bag, in manifest
    order; ``metadata(name)`` tells the package's own files (no format, no page) from content."""
    files = []
    for name, digest in bag.sha256.items():
        member = bag.members.get(name)
        if member is None:
            continue
        own = metadata(name)
        files.append(
            integrity.FileEntry(
                name=name,
                declared_sha256=digest,
                declared_sm3=bag.sm3.get(name, ""),
                open=member.open,
                size=member.size,
                format_name="metadata" if own else "",
                content=not own,
            )
        )
    return files


def verify_bag(bag: Bag, files: list, *, signature=None, with_sm3=False, workers=None) -> None:
    """Check ``bag`` as a bag before a byte of its payload is parsed: bagit.txt, the tag
    manifest over the tag files, the signature (``(valid, lines)`` from ``_verify_signature``,
    or None for an unsigned kind of package), every payload file listed and every listed file
    there, Payload-Oxum, and every file's SHA-256 (and SM3 with ``with_sm3``) against the
    manifests. Raises ``PackageRefused`` for the first that fails.

    The payload is read here for its digests only; the check engine reads it again, to tell
    formats, once it is known to be what was sent (a tampered file is never handed to a parser).
    """
    declaration = _bag_info(bag.tags.get("bagit.txt"))
    if "bagit.txt" not in bag.tags:
        raise PackageRefused("bagit.txt", _("missing: this is not a BagIt package"))
    if not declaration.get("BagIt-Version") or (
        declaration.get("Tag-File-Character-Encoding", "").upper() != "UTF-8"
    ):
        raise PackageRefused("bagit.txt", _("no BagIt version or not UTF-8"))
    if "tagmanifest-sha256.txt" not in bag.tags:
        raise PackageRefused("tagmanifest-sha256.txt", _("missing"))
    if signature is not None and not signature[0]:
        name = bag.info.get("Dangan-Signature-Algorithm", "")
        raise PackageRefused(SIGNATURES.get(name, ("", "bag-info.txt"))[1], signature[1][0])
    listed = _manifest(bag.tags["tagmanifest-sha256.txt"])
    for name in TAG_FILES:
        if name not in bag.tags:
            raise PackageRefused(name, _("missing"))
        if listed.get(name) != hashlib.sha256(bag.tags[name]).hexdigest():
            raise PackageRefused(name, _("does not match its SHA-256 in tagmanifest-sha256.txt"))
    for name in sorted(bag.sha256):
        if name not in bag.members:
            raise PackageRefused(name, _("listed in manifest-sha256.txt but not in the package"))
        if name not in bag.sm3:
            raise PackageRefused(name, _("listed in manifest-sha256.txt, not in manifest-sm3.txt"))
    for name in bag.sm3:
        if name not in bag.sha256:
            raise PackageRefused(name, _("listed in manifest-sm3.txt, not in manifest-sha256.txt"))
    if bag.extra:
        raise PackageRefused(bag.extra[0], _("in the package but listed in no manifest"))
    oxum = f"{sum(m.size for m in bag.members.values())}.{len(bag.members)}"
    if bag.info.get("Payload-Oxum") != oxum:
        raise PackageRefused(
            "bag-info.txt",
            _("Payload-Oxum says %(declared)s, the payload is %(found)s (bytes.files)")
            % {"declared": bag.info.get("Payload-Oxum", "—"), "found": oxum},
        )
    # Hash only: an entry with a format already named is not identified (not parsed) here.
    plain = [dataclasses.replace(f, format_name="unread") for f in files]
    readings = integrity.read_all(plain, with_sm3=with_sm3, workers=workers)
    for entry, reading in zip(files, readings, strict=True):
        if reading.error:
            raise PackageRefused(
                entry.name, _("cannot be read (%(error)s)") % {"error": reading.error}
            )
        if reading.sha256 != entry.declared_sha256.lower():
            raise PackageRefused(
                entry.name,
                _("SHA-256 %(got)s, but manifest-sha256.txt says %(sent)s: the file was changed")
                % {"got": reading.sha256, "sent": entry.declared_sha256},
            )
        if with_sm3 and reading.sm3 != entry.declared_sm3.lower():
            raise PackageRefused(
                entry.name,
                _("SM3 %(got)s, but manifest-sm3.txt says %(sent)s: the file was changed")
                % {"got": reading.sm3, "sent": entry.declared_sm3},
            )


def read_package(path, *, verify_sm3=False) -> tuple:
    """The package at ``path`` as a check ``Submission`` (nothing is written), with its
    bag-info and its metadata. The bag is checked first (``verify_bag``: signature, manifests,
    digests); its list is read only when the bag is what the unit signed."""
    path = str(path)
    bag = read_bag(path)
    info, members = bag.info, bag.members
    files = bag_files(bag, metadata=lambda name: name.startswith("data/metadata/"))
    signature = _verify_signature(info, bag.tags)
    verify_bag(bag, files, signature=signature, with_sm3=verify_sm3)
    meta = _read_list(members)
    declared = {
        f["path"]: (item["position"], f["page"], f["size"])
        for item in meta["items"]
        for f in item["files"]
    }
    for entry in files:
        entry.item, entry.page, entry.declared_size = declared.get(entry.name, (None, None, None))

    def describe():
        """The items with what is wrong in their metadata."""
        category = Category.objects.filter(code=meta["category"]).first()
        fonds = Fonds.objects.filter(code=meta["fonds"]).first()
        unit = Unit.objects.filter(code=info.get("Dangan-Unit")).first()
        probe = HandoverList(category=category, fonds=fonds, unit=unit)
        known = category is not None and fonds is not None and unit is not None
        cache, items = {}, []
        for item in meta["items"]:
            values, metadata = item["values"], item["metadata"]
            errors = (
                handover_services.item_errors(
                    probe, values, metadata, item["persons"], schema_cache=cache
                )
                if known
                else [_("The package names an unknown category, fonds or unit.")]
            )
            items.append(
                integrity.ItemEntry(
                    position=item["position"],
                    label=str(values.get("title", "")),
                    metadata_errors=errors,
                )
            )
        return items

    submission = integrity.Submission(
        label=info.get("External-Description", os.path.basename(path)),
        items=describe,
        files=files,
        declared_items=int(info["Dangan-Items"])
        if info.get("Dangan-Items", "").isdigit()
        else None,
        declared_bytes=bag.declared_bytes,
        missing=bag.missing,
        extra=bag.extra,
        signature=signature,
        tag_changes=bag.tag_changes,
        verify_sm3=verify_sm3,
        scan_paths=[path],
    )
    return submission, info, meta, members


def _read_list(members: dict) -> dict:
    """handover.json of a bag already verified: refused unless shaped as ``_metadata`` writes it
    (so that nothing later meets a missing key or a wrong type half-way through filing)."""
    member = members.get(JSON_PATH)
    if member is None:
        raise PackageRefused(JSON_PATH, _("missing"))
    with member.open() as stream:
        try:
            meta = json.loads(stream.read(member.size))
        except ValueError as error:
            raise PackageRefused(
                JSON_PATH, _("not valid JSON (%(error)s)") % {"error": error}
            ) from None
    where = _list_shape_error(meta, members)
    if where:
        raise PackageRefused(
            JSON_PATH,
            _("not a hand-over list as Dangan writes it (at %(where)s)") % {"where": where},
        )
    return meta


def _list_shape_error(meta, members) -> str:
    """Where ``meta`` departs from the shape of handover.json, or "" when it does not."""
    shape = {"fonds": str, "category": str, "title": str, "version": int, "items": list}
    if not isinstance(meta, dict):
        return "/"
    for key, kind in shape.items():
        if not isinstance(meta.get(key), kind):
            return key
    if not isinstance(meta.get("bytes", 0), int):
        return "bytes"
    positions = [item.get("position") for item in meta["items"] if isinstance(item, dict)]
    if len(set(map(str, positions))) != len(positions):
        return "items[].position"
    item_shape = {"position": int, "values": dict, "metadata": dict, "persons": list, "files": list}
    file_shape = {"path": str, "filename": str, "sha256": str, "page": int, "size": int}
    for n, item in enumerate(meta["items"]):
        if not isinstance(item, dict):
            return f"items[{n}]"
        for key, kind in item_shape.items():
            if not isinstance(item.get(key), kind) or isinstance(item.get(key), bool):
                return f"items[{n}].{key}"
        for m, f in enumerate(item["files"]):
            if not isinstance(f, dict):
                return f"items[{n}].files[{m}]"
            for key, kind in file_shape.items():
                if not isinstance(f.get(key), kind) or isinstance(f.get(key), bool):
                    return f"items[{n}].files[{m}].{key}"
            if f["path"] not in members:
                return f"items[{n}].files[{m}].path"
        for m, person in enumerate(item["persons"]):
            if not isinstance(person, dict):
                return f"items[{n}].persons[{m}]"
    return ""


def check_package(path, *, verify_sm3=False, workers=None) -> tuple:
    """Run the receipt checks over a package without keeping anything: ``(run, info)``."""
    submission, info, _meta, _members = read_package(path, verify_sm3=verify_sm3)
    return integrity.run_checks(submission, workers=workers), info


def receive_package(*, actor, source, verify_sm3=False, file_it=True) -> Received:
    """Check a package and keep the report; when it passes and ``file_it``, the list is
    received as a sent hand-over list (its files staged in the content store) for the archive
    to answer. ``source``: a path, or an uploaded file (copied to a temporary file first)."""
    import tempfile

    temporary = None
    if not isinstance(source, str | Path):
        temporary = tempfile.NamedTemporaryFile(suffix=".tar", delete=False)  # noqa: SIM115
        for chunk in (
            source.chunks()
            if hasattr(source, "chunks")
            else iter(lambda: source.read(1 << 20), b"")
        ):
            temporary.write(chunk)
        temporary.close()
        source = temporary.name
    try:
        submission, info, meta, members = read_package(source, verify_sm3=verify_sm3)
        run = integrity.run_checks(submission)
        uid = info.get("External-Identifier", "")
        handover = None
        existing = HandoverList.objects.filter(uid=uid).first() if _is_uuid(uid) else None
        if run.passed and file_it and existing is None:
            handover = _file_package(actor=actor, info=info, meta=meta, members=members)
        report = keep_report(
            actor=actor,
            stage=CheckReport.Stage.HANDOVER,
            subject_type=handover_services.SUBJECT_TYPE if handover else PACKAGE_SUBJECT,
            subject_id=handover.pk if handover else (uid or os.path.basename(str(source)))[:64],
            subject_repr=_("Package %(name)s from %(unit)s")
            % {
                "name": info.get("External-Description", ""),
                "unit": info.get("Source-Organization", "?"),
            },
            run=run,
        )
        return Received(run=run, report=report, info=info, handover=handover)
    finally:
        if temporary is not None:
            os.unlink(temporary.name)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _file_package(*, actor, info, meta, members) -> HandoverList:
    from dangan.content.services import keep_file

    unit = Unit.objects.get(code=info["Dangan-Unit"])
    with transaction.atomic():
        handover = HandoverList.objects.create(
            uid=info["External-Identifier"],
            unit=unit,
            fonds=Fonds.objects.get(code=meta["fonds"]),
            category=Category.objects.get(code=meta["category"]),
            title=meta.get("title", "")[:200],
            version=int(meta.get("version") or 1),
            state=HandoverList.State.SENT,
            sent_at=timezone.now(),
            declared_items=len(meta["items"]),
            declared_bytes=int(meta.get("bytes") or 0),
        )
        for item in meta["items"]:
            row = HandoverItem.objects.create(
                handover=handover,
                position=item["position"],
                values=item.get("values", {}),
                metadata=item.get("metadata", {}),
                persons=item.get("persons", []),
            )
            blobs = []
            for f in item["files"]:
                with members[f["path"]].open() as stream:
                    blob = keep_file(
                        name=f["filename"],
                        stream=Limited(stream, members[f["path"]].size),
                        actor=actor,
                    )
                blobs.append((f["filename"], blob, f["sha256"]))
            handover_services.stage_blobs(row, blobs)
        record_event(
            actor=actor,
            action=AuditEvent.Action.IMPORT,
            obj=handover,
            detail={
                "package": str(handover.uid),
                "unit": unit.code,
                "key": info.get("Dangan-Key-Fingerprint", ""),
            },
        )
    return handover


class Limited:
    """``size`` bytes of a stream, read in chunks."""

    def __init__(self, stream, size):
        self.stream, self.left = stream, size

    def read(self, n=-1):
        n = self.left if n is None or n < 0 else min(n, self.left)
        data = self.stream.read(n) if n else b""
        self.left -= len(data)
        return data
