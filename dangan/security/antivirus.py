"""恶意代码防范: every upload and ingest scanned by ClamAV, when the county runs it.

Two ways to reach ClamAV, chosen by configuration:

* ``DANGAN_CLAMAV_SOCKET`` — clamd's socket (``/run/clamav/clamd.ctl``, or ``host:port``). The
  bytes are sent with clamd's INSTREAM command as they stream past on their way into the store
  (the same single pass that identifies and digests them), so nothing is written to a
  temporary file for the scanner and a refused file never reaches the store.
* else ``clamdscan`` on the path (Debian ``clamdscan``), fed the bytes on its standard input.

Neither is installed by default: ``configured()`` is then false, uploads are not scanned and
the DA/T 70 check "Virus scan" says so. When it is configured, a scan that cannot be made
(clamd down, a file over clamd's ``StreamMaxLength``) refuses the upload: a scanner that is on
must not be skipped silently. Set ``StreamMaxLength`` in clamd.conf to at least
``DANGAN_MAX_UPLOAD_BYTES``.
"""

import logging
import shutil
import socket
import struct
import subprocess

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

#: Bytes sent to clamd in one INSTREAM chunk.
SEND_BYTES = 256 * 1024


def configured() -> bool:
    return bool(settings.DANGAN_CLAMAV_SOCKET) or shutil.which("clamdscan") is not None


def scanner_name() -> str:
    if settings.DANGAN_CLAMAV_SOCKET:
        return f"clamd ({settings.DANGAN_CLAMAV_SOCKET})"
    return "clamdscan"


class ScanFailed(Exception):
    """The scan could not be made (no answer, an error from clamd)."""


def _connect() -> socket.socket:
    address = settings.DANGAN_CLAMAV_SOCKET
    timeout = settings.DANGAN_CLAMAV_TIMEOUT
    try:
        if address.startswith("/"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(address)
            return sock
        host, _sep, port = address.rpartition(":")
        return socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout)
    except (OSError, ValueError) as error:
        raise ScanFailed(f"cannot reach clamd at {address}: {error}") from error


def _answer(sock: socket.socket) -> str:
    parts = []
    while True:
        part = sock.recv(4096)
        if not part:
            break
        parts.append(part)
        if part.endswith(b"\0"):
            break
    return b"".join(parts).rstrip(b"\0\n").decode("utf-8", "replace")


class Scan:
    """One file on its way through the scanner: ``feed`` the chunks, then ``verdict``.

    ``verdict()`` returns None for a clean file or the name of what was found; it raises
    ``ScanFailed`` when no verdict could be had."""

    def __init__(self):
        self._sock = self._process = None
        self._failed = None
        if settings.DANGAN_CLAMAV_SOCKET:
            self._sock = _connect()
            self._sock.sendall(b"zINSTREAM\0")
        else:
            self._process = subprocess.Popen(  # noqa: S603 - a fixed program, no shell
                [shutil.which("clamdscan"), "--no-summary", "-"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )

    def feed(self, chunk: bytes) -> None:
        if self._failed:
            return
        try:
            if self._sock is not None:
                view = memoryview(chunk)
                for start in range(0, len(view), SEND_BYTES):
                    piece = view[start : start + SEND_BYTES]
                    self._sock.sendall(struct.pack(">I", len(piece)) + piece)
            else:
                self._process.stdin.write(chunk)
        except OSError as error:
            # clamd closes the stream when a file passes its StreamMaxLength: its answer,
            # read in ``verdict``, says so.
            self._failed = str(error)

    def verdict(self) -> str | None:
        if self._sock is not None:
            return self._clamd_verdict()
        return self._clamdscan_verdict()

    def _clamd_verdict(self):
        try:
            if not self._failed:
                self._sock.sendall(struct.pack(">I", 0))
            answer = _answer(self._sock)
        except OSError as error:
            raise ScanFailed(f"clamd did not answer: {error}") from error
        finally:
            self._sock.close()
        # "stream: OK", "stream: Eicar-Signature FOUND", "INSTREAM size limit exceeded. ERROR"
        if answer.endswith("FOUND"):
            return answer.removeprefix("stream:").strip().removesuffix("FOUND").strip()
        if answer.endswith("OK") and not self._failed:
            return None
        raise ScanFailed(answer or self._failed or "no answer")

    def _clamdscan_verdict(self):
        try:
            self._process.stdin.close()
        except OSError:
            pass
        try:
            out, err = self._process.communicate(timeout=settings.DANGAN_CLAMAV_TIMEOUT)
        except subprocess.TimeoutExpired as error:
            self._process.kill()
            raise ScanFailed("clamdscan took too long") from error
        text = out.decode("utf-8", "replace")
        if self._process.returncode == 0:
            return None
        if self._process.returncode == 1:
            for line in text.splitlines():
                if line.endswith("FOUND"):
                    return line.partition(": ")[2].removesuffix("FOUND").strip()
            return "malware"
        raise ScanFailed(err.decode("utf-8", "replace").strip()[-300:] or "clamdscan failed")

    def close(self) -> None:
        """Give up on a scan that will not be finished (the upload was refused otherwise)."""
        if self._sock is not None:
            self._sock.close()
        elif self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()


REFUSALS = {
    "virus_found": _(
        "“%(name)s” contains malicious code (%(finding)s) and was not kept. Tell the security "
        "administrator where the file came from."
    ),
    "virus_scan_failed": _(
        "“%(name)s” could not be checked for viruses (%(problem)s) and was not kept. "
        "Try again later or ask the system administrator."
    ),
}


class UploadScan:
    """The scan of one upload as the content services use it: ``None`` when ClamAV is not
    configured, else feed it and ``finish()`` — which raises ``ValidationError`` for a file
    that must not be kept (found, or not scannable)."""

    def __init__(self, name: str):
        self.name = name
        try:
            self.scan = Scan()
            self.problem = None
        except ScanFailed as error:
            self.scan, self.problem = None, str(error)

    @classmethod
    def start(cls, name: str) -> "UploadScan | None":
        return cls(name) if configured() else None

    def feed(self, chunk: bytes) -> None:
        if self.scan is not None:
            self.scan.feed(chunk)

    def finish(self) -> None:
        if self.scan is not None:
            try:
                finding = self.scan.verdict()
            except ScanFailed as error:
                finding, self.problem = None, str(error)
        else:
            finding = None
        if self.problem:
            logger.error("Virus scan of an upload failed: %s", self.problem)
            raise ValidationError(
                REFUSALS["virus_scan_failed"],
                code="virus_scan_failed",
                params={"name": self.name, "problem": self.problem[:200]},
            )
        if finding:
            logger.warning("Malicious upload refused: %s (%s)", self.name, finding)
            raise ValidationError(
                REFUSALS["virus_found"],
                code="virus_found",
                params={"name": self.name, "finding": finding},
            )

    def close(self) -> None:
        if self.scan is not None:
            self.scan.close()


def scan_stream(stream, size: int | None = None) -> str | None:
    """Scan a readable binary stream (the DA/T 70 check of staged files), to its end or
    ``size`` bytes: None when clean, else what was found; ``ScanFailed`` when no verdict
    could be had."""
    scan = Scan()
    left = size
    try:
        while left is None or left > 0:
            chunk = stream.read(1024 * 1024 if left is None else min(left, 1024 * 1024))
            if not chunk:
                break
            scan.feed(chunk)
            if left is not None:
                left -= len(chunk)
    except BaseException:
        scan.close()
        raise
    return scan.verdict()
