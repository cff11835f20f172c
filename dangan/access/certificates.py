"""档案证明 (certified copies): what a certificate shows the public, and its signature.

The public page of a certificate shows only a masked summary: names keep their family name
(张**), ID numbers their region and last four digits. The summary is made once, at issue, and
kept with the certificate: what the page shows never changes after the copy was handed out.

Certificates are signed with the archive's SM2 key (``dangan.security.sm2``), as the national
rules ask; its fingerprint is printed on /verify/ pages. Certificates issued before SM2 carry the
Ed25519 signature of the key that signs the ledger's day roots, and are still checked with it.
"""

import base64
import hashlib
import re
import secrets

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.cache import cache

from dangan.people.id_numbers import mask as mask_id_number
from dangan.security import sm2

#: The verification code: 24 random bytes (192 bits), URL-safe base64, 32 characters.
CODE_BYTES = 24
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")
_ID_LIKE = re.compile(r"\d{15}(?:\d{2}[\dXx])?")


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def looks_like_code(text: str) -> bool:
    """A cheap check before any database look-up: anything else is answered 404 at once."""
    return bool(CODE_PATTERN.match(text or ""))


def mask_name(name: str) -> str:
    """张三丰 → 张**: the family name stays, so a holder recognises the copy as theirs."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" * len(name)
    return name[0] + "*" * (len(name) - 1)


def mask_text(text: str, names: list[str]) -> str:
    """``text`` with the given names and anything like an ID number masked."""
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        text = text.replace(name, mask_name(name))
    return _ID_LIKE.sub(lambda m: mask_id_number(m.group(0)), text)


def summary_of(record, *, holder_id_number: str | None = None) -> dict:
    """The masked summary of ``record`` that a certificate's public page shows.

    ``holder_id_number``: the person the copy is issued to, when they are one of the record's
    persons (a citizen's own file). Masking is for third parties: the cover of the copy the
    citizen holds shows their own name; the public page, which anyone with the code may open,
    is made without it and masks everyone.
    """
    persons = list(record.persons.all())
    others = [p for p in persons if p.id_number != holder_id_number]
    return {
        "archival_code": record.archival_code or record.legacy_number or "",
        "title": mask_text(record.title, [p.name for p in others]),
        "category": record.category.name,
        "fonds": record.fonds.name,
        "year": record.year,
        "persons": [
            f"{mask_name(p.name) if p in others else p.name} ({mask_id_number(p.id_number)})"
            for p in persons
        ],
    }


# --- Signing -------------------------------------------------------------------------------------
#: How long a checked SM2 signature's answer is remembered (pure-Python SM2 takes ~30 ms).
VERIFIED_SECONDS = 24 * 3600


def sign(data: bytes) -> tuple[str, str, str]:
    """(algorithm, signature, key fingerprint) of ``data`` by the archive's SM2 key."""
    key = sm2.archive_key()
    return sm2.ALGORITHM, sm2.sign(key, data), key.fingerprint


def signature_valid(certificate) -> bool:
    """Whether the certificate's signature verifies with the archive's key of its algorithm."""
    if certificate.algorithm != sm2.ALGORITHM:
        return _ed25519_valid(certificate)
    key = sm2.archive_key()
    if key.fingerprint != certificate.key_fingerprint:
        return False
    text = certificate.signed_text()
    remembered = (
        "certificate-sm2:"
        + hashlib.sha256(
            b"\0".join([key.public.encode(), text, certificate.signature.encode()])
        ).hexdigest()
    )
    valid = cache.get(remembered)
    if valid is None:
        valid = sm2.verify(key.public, text, certificate.signature)
        cache.set(remembered, valid, VERIFIED_SECONDS)
    return valid


# Certificates issued before SM2 signing: Ed25519, the ledger's key.
def archive_key() -> Ed25519PrivateKey:
    """The archive's Ed25519 key, kept by the integrity app (the ledger's day roots)."""
    from dangan.integrity import ledger

    return ledger.signing_key()


_public_key_cache: dict = {}


def archive_public_key():
    """The public half of the archive's key, read once per process and key file: the public
    page checks a signature on every request, and parsing the PEM costs more than verifying."""
    from dangan.integrity import ledger

    path = ledger.key_path()
    try:
        stamp = (str(path), path.stat().st_mtime_ns)
    except FileNotFoundError:
        stamp = None
    if stamp is None or stamp not in _public_key_cache:
        public = archive_key().public_key()
        if stamp is None:
            return public
        _public_key_cache.clear()
        _public_key_cache[stamp] = public
    return _public_key_cache[stamp]


def fingerprint(key) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def _ed25519_valid(certificate) -> bool:
    public = archive_public_key()
    if fingerprint(public) != certificate.key_fingerprint:
        return False
    try:
        public.verify(base64.b64decode(certificate.signature), certificate.signed_text())
    except (InvalidSignature, ValueError):
        return False
    return True
