"""A warm converter: one LibreOffice kept running per worker process (unoserver), reused for
every born-digital document, instead of starting ``soffice`` for each file.

Starting LibreOffice costs one to two seconds a file; a conversion by a running one costs a
fraction of that. unoserver (PyPI) keeps LibreOffice listening on a local UNO port and takes
conversions over XML-RPC on another, both on 127.0.0.1 and on ports chosen free at start. It
needs LibreOffice's Python bridge (``uno``, Debian's ``python3-uno``), which Debian installs for
its own Python; our interpreter is the same version, so the server is started by it with
Debian's folder appended to its path.

Every conversion has a time limit (``DANGAN_CONVERT_TIMEOUT``): when it is passed, or when the
server stops answering, its whole process group (unoserver and LibreOffice) is killed and the
next conversion starts a fresh one; the file that hung is failed with the reason. The server
also stops by itself when the worker that started it is gone (it watches its parent), so a
killed worker leaves no LibreOffice behind.
"""

import atexit
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import xmlrpc.client
from pathlib import Path

log = logging.getLogger(__name__)

#: Where Debian keeps LibreOffice's Python bridge (``uno.py``, ``pyuno.so``).
UNO_PLACES = ("/usr/lib/python3/dist-packages", "/usr/lib/libreoffice/program")
#: How long a fresh server may take to answer (LibreOffice's first start).
START_SECONDS = 90

#: The server's launcher: Debian's bridge appended to the path, a thread that ends the whole
#: process group when the parent (the worker) is gone, documents opened hidden (headless
#: LibreOffice 7.4 opens no spreadsheet without ``Hidden``: unoserver 3.7 does not ask for it),
#: then unoserver's own main.
_BOOT = """
import os, signal, sys, threading, time
sys.path.extend(sys.argv.pop(1).split(os.pathsep))
parent = os.getppid()
def watch():
    while os.getppid() == parent:
        time.sleep(1)
    os.killpg(0, signal.SIGKILL)
threading.Thread(target=watch, daemon=True).start()
from unoserver import converter
class Hidden:
    def __init__(self, desktop):
        self.desktop = desktop
    def __getattr__(self, name):
        return getattr(self.desktop, name)
    def loadComponentFromURL(self, url, frame, flags, properties):
        from com.sun.star.beans import PropertyValue
        hidden = PropertyValue()
        hidden.Name, hidden.Value = "Hidden", True
        return self.desktop.loadComponentFromURL(url, frame, flags, (*properties, hidden))
start = converter.UnoConverter.__init__
def hide(self, *args, **kwargs):
    start(self, *args, **kwargs)
    self.desktop = Hidden(self.desktop)
converter.UnoConverter.__init__ = hide
from unoserver.server import main
sys.argv[0] = "unoserver"
sys.exit(main())
"""


class ConverterUnavailable(Exception):
    """unoserver or LibreOffice's Python bridge is missing: convert one file at a time."""


def uno_path() -> str | None:
    """The folder holding LibreOffice's ``uno`` module, or None."""
    for place in UNO_PLACES:
        if (Path(place) / "uno.py").exists():
            return place
    return None


def available() -> bool:
    try:
        import unoserver  # noqa: F401
    except ImportError:
        return False
    return uno_path() is not None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Transport(xmlrpc.client.Transport):
    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout

    def make_connection(self, host):
        connection = super().make_connection(host)
        connection.timeout = self.timeout
        return connection


class WarmConverter:
    """One unoserver for this process, started on first use and restarted after a failure."""

    def __init__(self, *, profile: Path, soffice: str):
        self.profile = profile
        self.soffice = soffice
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.lock = threading.Lock()
        self.conversions = 0

    def convert(self, data: bytes, *, export_filter: str, options: list[str], timeout: int):
        """The PDF bytes LibreOffice makes of ``data``; ``TimeoutError`` after ``timeout``
        seconds (the server killed), ``RuntimeError`` with LibreOffice's words when it cannot
        open the document."""
        with self.lock:
            self._ensure_running()
            proxy = xmlrpc.client.ServerProxy(
                f"http://127.0.0.1:{self.port}", transport=_Transport(timeout), allow_none=True
            )
            try:
                result = proxy.convert(
                    None, data, None, "pdf", export_filter, options, False, None, None
                )
            except TimeoutError:
                self.stop()
                raise TimeoutError(timeout) from None
            except xmlrpc.client.Fault as fault:
                # LibreOffice refused the document; the server may be fine, or stuck in it.
                if not self._answers():
                    self.stop()
                raise RuntimeError(fault.faultString.strip().splitlines()[-1][:300]) from None
            except (ConnectionError, OSError, xmlrpc.client.ProtocolError):
                self.stop()
                raise
            self.conversions += 1
            return result.data if hasattr(result, "data") else result

    def _answers(self, timeout: float = 5) -> bool:
        try:
            xmlrpc.client.ServerProxy(
                f"http://127.0.0.1:{self.port}", transport=_Transport(timeout)
            ).info()
            return True
        except Exception:  # noqa: BLE001 - any failure to answer means: not answering
            return False

    def _ensure_running(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        place = uno_path()
        if place is None:
            raise ConverterUnavailable("python3-uno")
        self.port, uno_port = _free_port(), _free_port()
        self.profile.mkdir(mode=0o700, parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-c",
            _BOOT,
            place,
            "--port",
            str(self.port),
            "--uno-port",
            str(uno_port),
            "--executable",
            self.soffice,
            "--user-installation",
            str(self.profile),
            "--quiet",
        ]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self._answers(timeout=2):
                log.info("warm converter started (pid %s, port %s)", self.process.pid, self.port)
                return
            time.sleep(0.25)
        self.stop()
        raise ConverterUnavailable("unoserver did not start")

    def stop(self) -> None:
        """Kill the server and its LibreOffice (the whole process group)."""
        process, self.process = self.process, None
        if process is None:
            return
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()

    def pids(self) -> list[int]:
        """The server's and its children's process ids (for measuring their memory)."""
        if self.process is None:
            return []
        found = [self.process.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(stat[2]) == self.process.pid:  # its process group
                    found.append(int(entry.name))
        return sorted(set(found))


_converters: dict[int, WarmConverter] = {}


def for_this_process(*, profile: Path, soffice: str) -> WarmConverter:
    """This process's warm converter (a forked worker gets its own)."""
    pid = os.getpid()
    if pid not in _converters:
        _converters[pid] = WarmConverter(profile=profile, soffice=soffice)
        atexit.register(_converters[pid].stop)
    return _converters[pid]
