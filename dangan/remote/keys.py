"""This installation's identity among its peers, and SM2 public keys as PEM files.

The signing key is the archive's own SM2 key (``security.sm2.archive_key``), the one that signs
its certificates: a peer that registered it checks both the messages and the certificates.
A public key travels as a PEM ``PUBLIC KEY`` (SubjectPublicKeyInfo, curve SM2), which OpenSSL
reads too (``openssl pkey -pubin -in key.pem -text``).
"""

import base64
import json
import re

from django.conf import settings

from dangan.security import sm2

#: SubjectPublicKeyInfo up to the point: id-ecPublicKey, curve SM2 (1.2.156.10197.1.301), 04.
SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d03420004")
_HEX_KEY = re.compile(r"[0-9a-f]{128}")


def code() -> str:
    return settings.DANGAN_INSTALLATION_CODE


def name() -> str:
    return settings.DANGAN_ISSUER_NAME


def public_key() -> str:
    return sm2.archive_key().public


def pem(public: str) -> str:
    """The PEM text of an SM2 public key (128 hex digits)."""
    body = base64.encodebytes(SPKI_PREFIX + bytes.fromhex(public)).decode()
    return f"-----BEGIN PUBLIC KEY-----\n{body}-----END PUBLIC KEY-----\n"


def parse_public_key(text: str) -> str | None:
    """The public key (128 hex digits) in a PEM file, in the JSON of ``dangan peers key
    --json``, or as bare hex; None when ``text`` is none of these or not a point of SM2."""
    text = (text or "").strip()
    public = None
    if text.startswith("{"):
        try:
            text = str(json.loads(text).get("public_key", ""))
        except (ValueError, AttributeError):
            return None
    if "-----BEGIN PUBLIC KEY-----" in text:
        inner = text.split("-----BEGIN PUBLIC KEY-----")[1].split("-----END PUBLIC KEY-----")[0]
        try:
            der = base64.b64decode("".join(inner.split()), validate=True)
        except ValueError:
            return None
        if der.startswith(SPKI_PREFIX) and len(der) == len(SPKI_PREFIX) + 64:
            public = der[len(SPKI_PREFIX) :].hex()
    elif _HEX_KEY.fullmatch(text.lower()):
        public = text.lower()
    if public is None or not _on_curve(public):
        return None
    return public


def _on_curve(public: str) -> bool:
    p = int(sm2._gmssl.default_ecc_table["p"], 16)
    a = int(sm2._gmssl.default_ecc_table["a"], 16)
    b = int(sm2._gmssl.default_ecc_table["b"], 16)
    x, y = int(public[:64], 16), int(public[64:], 16)
    return x < p and y < p and (y * y - x * x * x - a * x - b) % p == 0
