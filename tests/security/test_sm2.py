"""SM2 signatures: checked by an independent implementation (OpenSSL), and the archive's key."""

import base64
import stat
import subprocess

from dangan.security import sm2

#: SubjectPublicKeyInfo of an SM2 key (id-ecPublicKey, curve 1.2.156.10197.1.301), up to x ‖ y.
SPKI_PREFIX = "3059301306072a8648ce3d020106082a811ccf5501822d03420004"


def _der(signature: str) -> bytes:
    def integer(value: int) -> bytes:
        raw = value.to_bytes(value.bit_length() // 8 + 1, "big")
        return b"\x02" + bytes([len(raw)]) + raw

    body = integer(int(signature[:64], 16)) + integer(int(signature[64:], 16))
    return b"\x30" + bytes([len(body)]) + body


def _openssl_verifies(tmp_path, public: str, data: bytes, signature: str) -> bool:
    pem = base64.encodebytes(bytes.fromhex(SPKI_PREFIX + public)).decode()
    pem = f"-----BEGIN PUBLIC KEY-----\n{pem}-----END PUBLIC KEY-----\n"
    (tmp_path / "key.pem").write_text(pem)
    (tmp_path / "data").write_bytes(data)
    (tmp_path / "signature").write_bytes(_der(signature))
    answer = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", tmp_path / "key.pem", "-rawin"]
        + ["-digest", "sm3", "-pkeyopt", "distid:1234567812345678"]
        + ["-in", tmp_path / "data", "-sigfile", tmp_path / "signature"],
        capture_output=True,
        text=True,
    )
    return answer.returncode == 0 and "Verified Successfully" in answer.stdout


def test_openssl_verifies_our_signatures_and_refuses_a_changed_byte(tmp_path):
    key = sm2.generate()
    data = "dangan-certificate\nZM2026000001\n档案证明\n".encode()

    signature = sm2.sign(key, data)

    assert _openssl_verifies(tmp_path, key.public, data, signature)
    assert not _openssl_verifies(tmp_path, key.public, data + b"!", signature)
    assert sm2.verify(key.public, data, signature)
    assert not sm2.verify(key.public, data + b"!", signature)
    assert not sm2.verify(key.public, data, "00" * 64)
    assert not sm2.verify(key.public, data, "not hex")


def test_two_signatures_of_the_same_text_differ_and_both_verify():
    key = sm2.generate()
    first, second = sm2.sign(key, b"x"), sm2.sign(key, b"x")
    assert first != second  # a fresh nonce each time
    assert sm2.verify(key.public, b"x", first) and sm2.verify(key.public, b"x", second)


def test_the_archive_key_is_made_once_and_kept_private(settings, tmp_path):
    settings.DATA_DIR = tmp_path

    key = sm2.archive_key()

    assert sm2.archive_key() == key
    path = tmp_path / "archive-sm2.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().split() == [key.private, key.public]
    assert len(key.fingerprint) == 64
