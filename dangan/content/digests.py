"""Fixity digests: SHA-256 as bytes are written, SM3 (GB/T 32905) of the stored bytes later.

SHA-256 names a blob (its key in the store), so it is computed as the bytes stream in: in a
hashing thread the caller hands each chunk to and does not wait for, so that while chunk *n* is
hashed the caller is already writing it and the next ones (hashlib releases the GIL for large
buffers; on one core the two simply take turns). SM3 is about five times slower (270–420 MB/s
on one core here, against 1.4–2 GB/s for SHA-256 with the CPU's SHA instructions); computed in
the same pass it held the store to a fifth of ``cp``. It is filled in after the blob is stored
(``content.services.ensure_sm3``).
"""

import hashlib
import itertools
import os
import queue
import threading

try:
    from cryptography.hazmat.primitives import hashes as _hashes

    def sm3():
        """A new SM3 hash object with ``update`` and ``hexdigest``."""
        return _CryptographySM3()

    class _CryptographySM3:
        def __init__(self):
            self._hash = _hashes.Hash(_hashes.SM3())

        def update(self, data):
            self._hash.update(data)

        def hexdigest(self) -> str:
            return self._hash.finalize().hex()

except (ImportError, AttributeError):  # an old cryptography without SM3
    from gmssl import sm3 as _gmssl_sm3

    class _GmsslSM3:
        """gmssl's pure-Python SM3: correct, but about a hundred times slower."""

        def __init__(self):
            self._parts = []

        def update(self, data):
            self._parts.append(bytes(data))

        def hexdigest(self) -> str:
            return _gmssl_sm3.sm3_hash(list(b"".join(self._parts)))

    def sm3():
        return _GmsslSM3()


#: Chunks waiting for a hashing thread, at most (with 1 MB chunks: 4 MB held per hashing thread).
QUEUED_CHUNKS = 4
#: Hashing threads; each digester keeps to one, so that its chunks are hashed in order.
HASHING_THREADS = 2


class _Hasher:
    """A thread that hashes the chunks queued to it, in order."""

    def __init__(self, number: int):
        self.queue = queue.Queue(maxsize=QUEUED_CHUNKS)
        threading.Thread(target=self._run, name=f"digest-{number}", daemon=True).start()

    def _run(self):
        while True:
            work, argument = self.queue.get()
            work(argument)


_hashers: list[_Hasher] = []
_hashers_pid = None
_next_hasher = itertools.count()
_hashers_lock = threading.Lock()


def _hasher() -> _Hasher:
    """One of the hashing threads, in turn; started anew in a forked child (a forked process
    has none of its parent's threads)."""
    global _hashers, _hashers_pid
    with _hashers_lock:
        if _hashers_pid != os.getpid():
            _hashers = [_Hasher(n) for n in range(HASHING_THREADS)]
            _hashers_pid = os.getpid()
        return _hashers[next(_next_hasher) % HASHING_THREADS]


class Digester:
    """SHA-256 of the bytes fed in order, in a hashing thread that the caller does not wait
    for until ``finish()`` (unless ``QUEUED_CHUNKS`` are already waiting): meanwhile the
    caller writes the bytes, and the next file. The caller must not change a chunk it passed
    (``bytes`` are safe)."""

    def __init__(self):
        self.size = 0
        self._sha256 = hashlib.sha256()
        self._hasher = _hasher()

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self._hasher.queue.put((self._sha256.update, chunk))

    def finish(self) -> str:
        done = threading.Event()
        self._hasher.queue.put((lambda _none: done.set(), None))
        done.wait()
        return self._sha256.hexdigest()


def digest_stream(stream, chunk_bytes: int = 1024 * 1024) -> tuple[str, str, int]:
    """(SHA-256, SM3, size) of what ``stream`` (``read(n)``, closed by the caller) gives."""
    sha256, other, size = hashlib.sha256(), sm3(), 0
    while chunk := stream.read(chunk_bytes):
        sha256.update(chunk)
        other.update(chunk)
        size += len(chunk)
    return sha256.hexdigest(), other.hexdigest(), size
