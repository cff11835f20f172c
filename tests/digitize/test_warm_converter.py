"""The warm converter: one LibreOffice kept running (unoserver) and reused for every document,
killed and started again after a hang, and gone when the worker that started it is killed."""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from dangan.content.formats import identify
from dangan.digitize import renditions, warm_converter

from .test_born_digital import word_document, workbook

pytestmark = pytest.mark.skipif(
    shutil.which("soffice") is None or not warm_converter.available(),
    reason="LibreOffice with its Python bridge (python3-uno) and unoserver are needed",
)
ROOT = Path(__file__).resolve().parents[2]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


def test_documents_go_to_one_running_libreoffice_reused_for_each(tmp_path, settings):
    settings.DANGAN_CONVERTER = "warm"
    running = warm_converter.for_this_process(
        profile=renditions._profile() / "warm", soffice=renditions.soffice()
    )
    running.stop()
    before = running.conversions
    first = renditions.render_pdfa(word_document("第一份请示"), format_name="DOCX")
    server = running.process.pid
    second = renditions.render_pdfa(
        workbook([["姓名", "金额"], ["李秀英", 12]]), format_name="XLSX"
    )
    assert running.process.pid == server  # the same LibreOffice, kept warm
    assert running.conversions == before + 2
    assert identify("a.pdf", first).version == identify("b.pdf", second).version == "2b"
    assert len(running.pids()) >= 2  # unoserver and its LibreOffice

    # A document that takes too long: its LibreOffice is killed, the next gets a fresh one.
    pids = running.pids()
    with pytest.raises(renditions.ConversionFailed, match="did not finish"):
        renditions.render_pdfa(word_document("超时"), format_name="DOCX", timeout=0.01)
    assert running.process is None
    time.sleep(0.5)
    assert not any(alive(pid) for pid in pids)
    renditions.render_pdfa(word_document("再来一份"), format_name="DOCX")
    assert running.process.pid != server
    running.stop()


def test_a_killed_worker_leaves_no_libreoffice_behind(tmp_path):
    """The worker is killed (SIGKILL) while its converter runs: unoserver notices its parent
    is gone and ends its whole process group, LibreOffice with it."""
    script = textwrap.dedent(
        f"""
        import os, sys, shutil
        from pathlib import Path
        sys.path.insert(0, {str(ROOT)!r})
        from dangan.digitize.warm_converter import WarmConverter
        c = WarmConverter(profile=Path({str(tmp_path / "p")!r}), soffice=shutil.which("soffice"))
        c._ensure_running()
        print(" ".join(map(str, c.pids())), flush=True)
        import time
        time.sleep(600)
        """
    )
    worker = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    pids = [int(p) for p in worker.stdout.readline().split()]
    assert len(pids) >= 2 and all(alive(pid) for pid in pids)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.5)
    assert not any(alive(pid) for pid in pids)
