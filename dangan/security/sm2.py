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
import re
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


_KEY_LINES = (re.compile(r"[0-9a-f]{64}"), re.compile(r"[0-9a-f]{128}"))


def key_text(key: KeyPair, comment: str = "") -> str:
    """A key file's text: an optional ``#`` comment line, then the private and the public key
    in hex, a line each (the archive's key, a unit's package key)."""
    return (f"# {comment}\n" if comment else "") + f"{key.private}\n{key.public}\n"


def parse_key(text: str) -> KeyPair | None:
    """The key in a ``key_text``; None when ``text`` is not one."""
    lines = [line.strip().lower() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if len(lines) != 2 or not all(p.fullmatch(t) for p, t in zip(_KEY_LINES, lines, strict=True)):
        return None
    return KeyPair(private=lines[0], public=lines[1])


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
            out.write(key_text(made))
        try:
            os.link(temporary, path)  # whole, and only if no other process made one first
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    stamp = (str(path), path.stat().st_mtime_ns)
    if stamp not in _cache:
        key = parse_key(path.read_text())
        if key is None:
            raise ValueError(f"{path} is not an SM2 key file")
        _cache.clear()
        _cache[stamp] = key
    return _cache[stamp]
