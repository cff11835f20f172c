"""SM2 signatures (GB/T 32918; SM3 with the default user ID 1234567812345678, GM/T 0009) and the
archive's own SM2 key, for what the national rules want signed with SM2 (certificates).

The curve arithmetic is gmssl's (pure Python: signing takes some 10 ms, verifying some 30 ms, so
callers that verify on every request cache the answer). Two of its defaults are not used: its
nonce comes from ``random`` (predictable: a predictable nonce gives the private key away), so
every signature here draws its nonce from ``secrets``; and its constructor mangles a public key
that starts with the characters ``0`` or ``4``, so the key is set after construction.

The archive's key is made on first use as ``DANGAN_DATA_DIR/archive-sm2.key`` (mode 600: the
private and public keys in hex, one per line); backups keep it with the other data files.
"""

import hashlib
import os
import secrets
from dataclasses import dataclass

from django.conf import settings
from gmssl import sm2 as _gmssl

ALGORITHM = "sm2"
_N = int(_gmssl.default_ecc_table["n"], 16)


@dataclass(frozen=True)
class KeyPair:
    private: str  # 64 hex digits
    public: str  # 128 hex digits: x and y, without the 04 prefix

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public)


def _crypt(private: str, public: str) -> "_gmssl.CryptSM2":
    crypt = _gmssl.CryptSM2(private_key=private, public_key="")
    crypt.public_key = public
    return crypt


def generate() -> KeyPair:
    d = secrets.randbelow(_N - 2) + 1
    public = _crypt("", "")._kg(d, _gmssl.default_ecc_table["g"])
    return KeyPair(private=f"{d:064x}", public=public)


def sign(key: KeyPair, data: bytes) -> str:
    """The signature (r ‖ s, 128 hex digits) of ``data`` by ``key``."""
    crypt = _crypt(key.private, key.public)
    while True:
        signature = crypt.sign_with_sm3(data, f"{secrets.randbelow(_N - 1) + 1:064x}")
        if signature:  # None in the rare case the nonce gives r = 0 or s = 0: draw again
            return signature


def verify(public: str, data: bytes, signature: str) -> bool:
    try:
        return bool(_crypt("", public).verify_with_sm3(signature, data))
    except (ValueError, TypeError, ZeroDivisionError):  # not hex, or not a point
        return False


def fingerprint(public: str) -> str:
    """SHA-256 of the public key's bytes (04 ‖ x ‖ y), in hex."""
    return hashlib.sha256(bytes.fromhex("04" + public)).hexdigest()


def key_path():
    return settings.DATA_DIR / "archive-sm2.key"


_cache: dict = {}


def archive_key() -> KeyPair:
    """The archive's SM2 key, made on first use (by one process, however many start at once)."""
    path = key_path()
    if not path.exists():
        made = generate()
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(f"{made.private}\n{made.public}\n")
        try:
            os.link(temporary, path)  # whole, and only if no other process made one first
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    stamp = (str(path), path.stat().st_mtime_ns)
    if stamp not in _cache:
        private, public = path.read_text().split()[:2]
        _cache.clear()
        _cache[stamp] = KeyPair(private=private, public=public)
    return _cache[stamp]
