"""Encryption at rest of the content store (加密存储): envelope encryption in 1 MiB GCM chunks.

A county whose disks or object storage are not under its own lock turns it on with
``DANGAN_CONTENT_ENCRYPTION=sm4-gcm`` (GB/T 32907 SM4, the 国密 choice) or ``aes-256-gcm``.

* **Envelope.** Every blob gets its own random data key (SM4: 128 bits, AES: 256 bits). The
  data key is wrapped (encrypted, GCM) with the **key-encryption key** (KEK) and written in
  the blob's own header with the KEK's id, so a blob never depends on a database row to be
  read: a blob stored by an upload that crashed before its row was written, or found again by
  a restore, still decrypts. Rotating the KEK (``dangan content rekey``) rewrites only headers;
  the chunks are copied as they are, never decrypted.
* **Chunks.** The plain bytes are cut in 1 MiB chunks, each sealed on its own (GCM: secret and
  authenticated). A chunk's nonce is its number and a "last chunk" flag, so a chunk moved
  elsewhere, a chunk removed and a blob cut short all fail to open. Reading decrypts one chunk
  at a time: a 1 GB file is never in memory, and a seek decrypts only the chunk it lands in.
* **Digests stay on the plain bytes** (the store digests before it encrypts), so fixity, the
  ledger, packages and hand-overs see no difference.

Layout of an encrypted blob::

    magic "DGNENC\\0\\1" | algorithm (1) | salt (16) | KEK id (8) | wrapped key length (1)
    | wrapped data key (nonce 12 + key + tag 16) | chunk 0 (≤ 1 MiB + tag 16) | chunk 1 | …

The fixed part (magic, algorithm, salt) is the additional authenticated data of every chunk
and of the wrapped key; the KEK id and wrapped key are outside it, which is what lets a rekey
replace them without touching the chunks.

Keys (see docs/security.md): ``DANGAN_CONTENT_KEK`` (base64 keys, comma separated, the first
one current), else the file ``DANGAN_CONTENT_KEK_FILE`` (one base64 key a line, the first
current), else ``$DANGAN_DATA_DIR/content-kek``, made on first use. Older keys stay listed
after the current one until ``rekey`` has re-wrapped every data key.
"""

import base64
import hashlib
import hmac
import io
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MAGIC = b"DGNENC\x00\x01"
#: Plain bytes per chunk; every chunk but the last holds exactly this many.
CHUNK_PLAIN = 1024 * 1024
TAG = 16
NONCE = 12
SALT = 16
KEK_ID = 8
FIXED = len(MAGIC) + 1 + SALT  # the authenticated part of the header

ALGORITHMS = {"aes-256-gcm": 1, "sm4-gcm": 2}
_NAMES = {number: name for name, number in ALGORITHMS.items()}
_KEY_BYTES = {"aes-256-gcm": 32, "sm4-gcm": 16}


class ContentIntegrityError(ValueError):
    """Encrypted bytes that do not open: changed, cut short, reordered, or under a lost key."""


# --- The two ciphers, both GCM --------------------------------------------------------------------
def _cipher(name: str, key: bytes):
    return algorithms.SM4(key) if name == "sm4-gcm" else algorithms.AES(key)


def seal(name: str, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    """``data`` encrypted and authenticated: ciphertext followed by the 16-byte tag."""
    encryptor = Cipher(_cipher(name, key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    return encryptor.update(data) + encryptor.finalize() + encryptor.tag


def unseal(name: str, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    """The plain bytes of ``seal``'s output; ``InvalidTag`` when anything was changed."""
    if len(sealed) < TAG:
        raise InvalidTag()
    decryptor = Cipher(_cipher(name, key), modes.GCM(nonce, sealed[-TAG:])).decryptor()
    decryptor.authenticate_additional_data(aad)
    plain = decryptor.update(memoryview(sealed)[:-TAG])
    decryptor.finalize()  # GCM gives no bytes here; it checks the tag
    return plain


def chunk_nonce(number: int, last: bool) -> bytes:
    """Chunk ``number``'s nonce: unique under the blob's own data key, and it says "last"."""
    return number.to_bytes(NONCE - 1, "big") + (b"\x01" if last else b"\x00")


# --- Key-encryption keys --------------------------------------------------------------------------
@dataclass(frozen=True)
class Kek:
    """A key-encryption key; ``id`` names it in blob headers without revealing it."""

    key: bytes

    @property
    def id(self) -> bytes:
        return hmac.new(self.key, b"dangan content kek id", hashlib.sha256).digest()[:KEK_ID]

    def wrapping_key(self, name: str) -> bytes:
        return HKDF(
            algorithm=hashes.SHA256(),
            length=_KEY_BYTES[name],
            salt=None,
            info=b"dangan content wrap " + name.encode(),
        ).derive(self.key)


def new_kek_text() -> str:
    """A fresh 256-bit key in base64, as the key file and ``DANGAN_CONTENT_KEK`` hold it."""
    return base64.b64encode(os.urandom(32)).decode()


def _parse(text: str, where: str) -> list[Kek]:
    keks = []
    for line in text.replace(",", "\n").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            key = base64.b64decode(line, validate=True)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise ImproperlyConfigured(f"{where}: a key is not 32 bytes in base64.")
        keks.append(Kek(key))
    return keks


def kek_file() -> Path:
    return Path(settings.DANGAN_CONTENT_KEK_FILE or Path(settings.DATA_DIR) / "content-kek")


def load_keks(*, create: bool = False) -> list[Kek]:
    """Every configured KEK, the current one first. With ``create`` and nothing configured,
    a key file is made (mode 600) — the case of one county that just turned encryption on."""
    if settings.DANGAN_CONTENT_KEK:
        return _parse(settings.DANGAN_CONTENT_KEK, "DANGAN_CONTENT_KEK")
    path = kek_file()
    if not path.exists():
        if not create:
            return []
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(new_kek_text() + "\n")
    keks = _parse(path.read_text(), str(path))
    if not keks:
        raise ImproperlyConfigured(f"{path} holds no key.")
    return keks


def add_kek(text: str) -> Path:
    """Put a new current key at the top of the key file, keeping the older ones after it."""
    if settings.DANGAN_CONTENT_KEK:
        raise ImproperlyConfigured(
            "The keys come from DANGAN_CONTENT_KEK: put the new key first there instead."
        )
    path = kek_file()
    old = path.read_text() if path.exists() else ""
    temp = path.with_name(path.name + ".new")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(text + "\n" + old)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, path)
    return path


def drop_old_keks() -> None:
    """Keep only the current key in the key file (after a complete rekey)."""
    path = kek_file()
    current = load_keks()[0]
    temp = path.with_name(path.name + ".new")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(base64.b64encode(current.key).decode() + "\n")
    os.replace(temp, path)


# --- Header ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Header:
    algorithm: str
    salt: bytes
    kek_id: bytes
    wrapped: bytes

    @property
    def fixed(self) -> bytes:
        return MAGIC + bytes([ALGORITHMS[self.algorithm]]) + self.salt

    def to_bytes(self) -> bytes:
        return self.fixed + self.kek_id + bytes([len(self.wrapped)]) + self.wrapped

    @classmethod
    def new(cls, algorithm: str, kek: Kek) -> tuple["Header", bytes]:
        """A header for a new blob and its data key."""
        salt = os.urandom(SALT)
        data_key = os.urandom(_KEY_BYTES[algorithm])
        header = cls(algorithm, salt, kek.id, b"")
        return header.rewrapped(data_key, kek), data_key

    def rewrapped(self, data_key: bytes, kek: Kek) -> "Header":
        nonce = os.urandom(NONCE)
        wrapped = nonce + seal(
            self.algorithm, kek.wrapping_key(self.algorithm), nonce, data_key, self.fixed
        )
        return Header(self.algorithm, self.salt, kek.id, wrapped)

    def data_key(self, keks: list[Kek]) -> bytes:
        kek = next((k for k in keks if k.id == self.kek_id), None)
        if kek is None:
            raise ContentIntegrityError(
                f"This blob's data key is wrapped by key {self.kek_id.hex()}, which is not "
                "configured (DANGAN_CONTENT_KEK / DANGAN_CONTENT_KEK_FILE)."
            )
        nonce, sealed = self.wrapped[:NONCE], self.wrapped[NONCE:]
        try:
            return unseal(
                self.algorithm, kek.wrapping_key(self.algorithm), nonce, sealed, self.fixed
            )
        except InvalidTag:
            raise ContentIntegrityError(
                "This blob's wrapped data key does not open: its header was changed."
            ) from None


def _read_exactly(raw, size: int) -> bytes:
    parts, wanted = [], size
    while wanted:
        part = raw.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def read_header(raw) -> tuple[Header | None, bytes]:
    """The header at the start of ``raw`` and b"", or None and the bytes read for a blob
    stored before encryption (they are its first bytes)."""
    start = _read_exactly(raw, FIXED + KEK_ID + 1)
    if not start.startswith(MAGIC):
        return None, start
    number = start[len(MAGIC)]
    if number not in _NAMES or len(start) < FIXED + KEK_ID + 1:
        raise ContentIntegrityError("The encrypted blob's header is damaged.")
    wrapped = _read_exactly(raw, start[-1])
    if len(wrapped) != start[-1]:
        raise ContentIntegrityError("The encrypted blob's header is cut short.")
    salt = start[len(MAGIC) + 1 : FIXED]
    return Header(_NAMES[number], salt, start[FIXED : FIXED + KEK_ID], wrapped), b""


# --- Writing: plain bytes in, sealed chunks out ---------------------------------------------------
class Sealer:
    """Turns plain bytes, fed in any pieces, into the header and sealed 1 MiB chunks."""

    def __init__(self, algorithm: str, kek: Kek):
        self.header, self._key = Header.new(algorithm, kek)
        self._buffer = bytearray()
        self._number = 0
        self._started = False

    def _start(self) -> list[bytes]:
        if self._started:
            return []
        self._started = True
        return [self.header.to_bytes()]

    def _chunk(self, data: bytes, last: bool) -> bytes:
        sealed = seal(
            self.header.algorithm,
            self._key,
            chunk_nonce(self._number, last),
            data,
            self.header.fixed,
        )
        self._number += 1
        return sealed

    def feed(self, data: bytes) -> list[bytes]:
        out = self._start()
        self._buffer += data
        # Keep the last full chunk back: only ``finish`` knows whether it is the last one.
        while len(self._buffer) > CHUNK_PLAIN:
            out.append(self._chunk(bytes(self._buffer[:CHUNK_PLAIN]), last=False))
            del self._buffer[:CHUNK_PLAIN]
        return out

    def finish(self) -> list[bytes]:
        out = self._start()
        out.append(self._chunk(bytes(self._buffer), last=True))
        self._buffer = bytearray()
        return out


# --- Reading: sealed chunks in, plain bytes out ---------------------------------------------------
class OpenedBlob(io.RawIOBase):
    """A read-only stream of a blob's plain bytes, decrypted one chunk at a time.

    Every chunk is authenticated before a byte of it is returned; a chunk that does not open
    raises ``ContentIntegrityError``. When the underlying file can seek (local disk), so can
    this stream, in plain-byte positions, and its size is known without reading it.
    """

    def __init__(self, raw, header: Header, keks: list[Kek], *, name: str = ""):
        super().__init__()
        self._raw = raw
        self._header = header
        self._key = header.data_key(keks)
        self._body_start = len(header.to_bytes())
        self._label = name
        self._number = 0  # the next chunk to read
        self._plain = b""  # the rest of the current chunk
        self._position = 0
        self._done = False
        self._chunks = None
        if self.seekable():
            end = raw.seek(0, io.SEEK_END)
            body = end - self._body_start
            self._chunks = max(1, -(-body // (CHUNK_PLAIN + TAG)))
            self._size = body - self._chunks * TAG
            raw.seek(self._body_start)

    def readable(self):
        return True

    def seekable(self):
        seekable = getattr(self._raw, "seekable", None)
        return bool(seekable and seekable())

    def close(self):
        if not self.closed:
            self._raw.close()
        super().close()

    def _fail(self, what: str):
        raise ContentIntegrityError(
            f"Content {self._label or ''} failed its integrity check at chunk {self._number}: "
            f"{what}. The encrypted bytes in the store were changed, cut short or reordered; "
            "restore the blob from a backup."
        )

    def _next_chunk(self) -> bytes:
        sealed = _read_exactly(self._raw, CHUNK_PLAIN + TAG)
        algorithm, fixed = self._header.algorithm, self._header.fixed
        if self._chunks is not None:
            last = self._number == self._chunks - 1
            if self._number >= self._chunks:
                self._fail("read past the end")
            try:
                plain = unseal(algorithm, self._key, chunk_nonce(self._number, last), sealed, fixed)
            except InvalidTag:
                self._fail("the chunk does not authenticate")
        else:
            # A stream that cannot tell its length: a short chunk must be the last one; a full
            # one is tried as "not last" first, then as "last" (a blob of whole chunks).
            plain = None
            if len(sealed) == CHUNK_PLAIN + TAG:
                try:
                    plain = unseal(
                        algorithm, self._key, chunk_nonce(self._number, False), sealed, fixed
                    )
                    last = False
                except InvalidTag:
                    plain = None
            if plain is None:
                try:
                    plain = unseal(
                        algorithm, self._key, chunk_nonce(self._number, True), sealed, fixed
                    )
                    last = True
                except InvalidTag:
                    if not sealed:
                        self._fail("the blob ends before its last chunk")
                    self._fail("the chunk does not authenticate")
            if last and self._raw.read(1):
                self._fail("bytes follow the last chunk")
        self._number += 1
        self._done = last
        return plain

    def readinto(self, buffer) -> int:
        if not self._plain:
            if self._done:
                return 0
            self._plain = self._next_chunk()
        count = min(len(buffer), len(self._plain))
        buffer[:count] = self._plain[:count]
        self._plain = self._plain[count:]
        self._position += count
        return count

    def read(self, size=-1) -> bytes:
        if size is None or size < 0:
            parts = []
            while part := self.read(CHUNK_PLAIN):
                parts.append(part)
            return b"".join(parts)
        if not self._plain and not self._done and size >= CHUNK_PLAIN:
            self._plain = self._next_chunk()
        if size >= len(self._plain) > 0:  # the common 1 MiB read: the chunk as it is
            data, self._plain = self._plain, b""
            self._position += len(data)
            return data
        parts, wanted = [], size
        while wanted:
            if not self._plain:
                if self._done:
                    break
                self._plain = self._next_chunk()
                continue
            part = self._plain[:wanted]
            self._plain = self._plain[len(part) :]
            parts.append(part)
            wanted -= len(part)
        data = b"".join(parts)
        self._position += len(data)
        return data

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if not self.seekable():
            raise io.UnsupportedOperation("seek")
        if whence == io.SEEK_CUR:
            offset += self._position
        elif whence == io.SEEK_END:
            offset += self._size
        offset = max(0, min(offset, self._size))
        number = min(offset // CHUNK_PLAIN, self._chunks - 1)
        self._raw.seek(self._body_start + number * (CHUNK_PLAIN + TAG))
        self._number, self._done, self._plain = number, False, b""
        self._plain = self._next_chunk()[offset - number * CHUNK_PLAIN :]
        self._position = offset
        return offset


class _Prefixed(io.RawIOBase):
    """A stream that gives ``head`` (bytes already read) and then the rest of ``raw``: how a
    blob stored before encryption is read through the encrypting store."""

    def __init__(self, head: bytes, raw):
        super().__init__()
        self._head, self._raw = head, raw

    def readable(self):
        return True

    def read(self, size=-1):
        if size is None or size < 0:
            data, self._head = self._head + self._raw.read(), b""
            return data
        if self._head:
            data, self._head = self._head[:size], self._head[size:]
            return data
        return self._raw.read(size)

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self):
        if not self.closed:
            self._raw.close()
        super().close()


def open_sealed(raw, keks: list[Kek], *, name: str = ""):
    """The plain stream of a stored blob: decrypted if encrypted, as it is if stored before
    encryption was turned on. The first chunk is checked here, so a damaged blob is refused
    before a download starts."""
    try:
        header, head = read_header(raw)
        if header is None:
            return _Prefixed(head, raw)
        opened = OpenedBlob(raw, header, keks, name=name)
    except BaseException:
        raw.close()
        raise
    try:
        if opened.seekable():
            opened.seek(0)
        else:
            opened._plain = opened._next_chunk()
    except BaseException:
        opened.close()
        raise
    return opened
