"""ClamAV on uploads, through a clamd peer that speaks the real INSTREAM protocol on a unix
socket (ClamAV itself needs signatures downloaded from the internet, which this machine cannot
reach): a file with the EICAR test string is refused before it reaches the store, a clean one
is kept, a scanner that fails refuses rather than letting files through, and the DA/T 70 check
says "not configured" when there is no scanner."""

import hashlib
import io
import json
import os
import socket
import struct
import tempfile
import threading

import pytest
from django.core.exceptions import ValidationError

from dangan.audit.models import AuditEvent
from dangan.content.models import Blob, Page
from dangan.content.services import add_files, keep_file
from dangan.content.stores import get_store
from dangan.integrity.checks import FileEntry, ItemEntry, Submission, run_checks
from dangan.security import antivirus
from tests.content.conftest import jpeg, leftovers

#: The anti-virus test file every scanner knows (harmless: it is only a string).
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


class FakeClamd:
    """A clamd peer: zINSTREAM / nINSTREAM, chunks of <4-byte length><bytes> ending with a
    zero length, answers "stream: OK", "stream: Eicar-Test-Signature FOUND", or "INSTREAM size
    limit exceeded. ERROR" past ``max_bytes`` (clamd's StreamMaxLength), each ending in NUL."""

    def __init__(self, path, max_bytes=25 * 1024 * 1024):
        self.path, self.max_bytes = path, max_bytes
        self.streams = 0
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(8)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                self._one(conn)

    @staticmethod
    def _exactly(conn, n):
        data = b""
        while len(data) < n:
            part = conn.recv(n - len(data))
            if not part:
                raise ConnectionError
            data += part
        return data

    def _one(self, conn):
        command = b""
        while not command.endswith((b"\0", b"\n")):
            command += conn.recv(1)
        if command[1:-1] == b"PING":
            conn.sendall(b"PONG" + command[-1:])
            return
        assert command[1:-1] == b"INSTREAM", command
        end = command[-1:]
        received = b""
        try:
            while True:
                (length,) = struct.unpack(">I", self._exactly(conn, 4))
                if length == 0:
                    break
                received += self._exactly(conn, length)
                if len(received) > self.max_bytes:
                    conn.sendall(b"INSTREAM size limit exceeded. ERROR" + end)
                    return
        except ConnectionError:
            return
        self.streams += 1
        if EICAR in received:
            conn.sendall(b"stream: Eicar-Test-Signature FOUND" + end)
        else:
            conn.sendall(b"stream: OK" + end)

    def close(self):
        self.server.close()


@pytest.fixture
def local_store(settings, tmp_path):
    settings.CONTENT_STORE, settings.CONTENT_DIR = "local", tmp_path / "content"
    return get_store()


@pytest.fixture
def clamd(settings):
    folder = tempfile.mkdtemp(prefix="clamd-")
    server = FakeClamd(os.path.join(folder, "clamd.ctl"), max_bytes=4 * 1024 * 1024)
    settings.DANGAN_CLAMAV_SOCKET = server.path
    yield server
    server.close()


def infected_jpeg() -> bytes:
    return jpeg(200_000)[:100_000] + EICAR + os.urandom(100_000)


def test_a_clean_upload_is_scanned_and_kept(clamd, local_store, archivist, make_record):
    record = make_record()
    pages = add_files(actor=archivist, record=record, files=[("a.jpg", io.BytesIO(jpeg()))])
    assert len(pages) == 1 and clamd.streams == 1


def test_an_infected_upload_is_refused_and_leaves_nothing(
    clamd, local_store, archivist, make_record
):
    record = make_record()
    with pytest.raises(ValidationError) as refused:
        add_files(
            actor=archivist,
            record=record,
            files=[("ok.jpg", io.BytesIO(jpeg())), ("bad.jpg", io.BytesIO(infected_jpeg()))],
        )
    assert refused.value.error_list[0].code == "virus_found"
    assert "bad.jpg" in refused.value.messages[0] and "Eicar" in refused.value.messages[0]
    assert Page.objects.count() == 0 and Blob.objects.count() == 0
    assert leftovers(local_store) == []
    (event,) = AuditEvent.objects.filter(action=AuditEvent.Action.REFUSE)
    assert (event.actor, event.object_id) == (archivist, str(record.pk))
    assert event.detail["file"] == "bad.jpg" and "Eicar" in event.detail["finding"]


def test_staged_files_are_scanned_too(clamd, local_store, db):
    with pytest.raises(ValidationError) as refused:
        keep_file(name="handed-over.jpg", stream=io.BytesIO(infected_jpeg()))
    assert refused.value.code == "virus_found"
    assert AuditEvent.objects.get(action=AuditEvent.Action.REFUSE).detail["file"] == (
        "handed-over.jpg"
    )
    assert keep_file(name="clean.jpg", stream=io.BytesIO(jpeg())).size > 0


def test_a_file_past_the_scanners_limit_is_refused_not_waved_through(clamd, local_store, db):
    with pytest.raises(ValidationError) as refused:
        keep_file(name="big.jpg", stream=io.BytesIO(jpeg(6 * 1024 * 1024)))
    assert refused.value.code == "virus_scan_failed"
    assert "size limit" in refused.value.messages[0]


def test_a_scanner_that_is_down_refuses_uploads(settings, local_store, db, tmp_path):
    settings.DANGAN_CLAMAV_SOCKET = str(tmp_path / "nobody-listens.ctl")
    with pytest.raises(ValidationError) as refused:
        keep_file(name="a.jpg", stream=io.BytesIO(jpeg()))
    assert refused.value.code == "virus_scan_failed"


def test_without_a_scanner_uploads_are_kept_unscanned(settings, local_store, db, monkeypatch):
    settings.DANGAN_CLAMAV_SOCKET = ""
    monkeypatch.setattr(antivirus.shutil, "which", lambda name: None)
    assert not antivirus.configured()
    assert keep_file(name="a.jpg", stream=io.BytesIO(infected_jpeg())).size > 0


def _submission(*payloads):
    files = [
        FileEntry(
            name=f"1/{n}",
            declared_sha256=hashlib.sha256(data).hexdigest(),
            open=lambda data=data: io.BytesIO(data),
            item=1,
            page=n,
        )
        for n, data in enumerate(payloads, start=1)
    ]
    return Submission(label="x", items=[ItemEntry(1, "a")], files=files, declared_items=1)


def test_the_da_t_70_check_streams_every_file_to_clamd(clamd):
    outcomes = {o.check_id: o for o in run_checks(_submission(jpeg(), jpeg())).outcomes}
    assert outcomes["YJ-4-1"].verdict == "pass"
    outcomes = {o.check_id: o for o in run_checks(_submission(jpeg(), infected_jpeg())).outcomes}
    virus = outcomes["YJ-4-1"]
    assert virus.verdict == "fail" and virus.evidence == ["1/2: Eicar-Test-Signature"]


def test_the_da_t_70_check_says_not_configured_without_a_scanner(settings, monkeypatch):
    settings.DANGAN_CLAMAV_SOCKET = ""
    monkeypatch.setattr("dangan.integrity.checks.shutil.which", lambda name: None)
    outcomes = {o.check_id: o for o in run_checks(_submission(jpeg())).outcomes}
    assert outcomes["YJ-4-1"].verdict == "skipped"
    assert "Not configured" in outcomes["YJ-4-1"].summary


@pytest.mark.django_db(transaction=True)
def test_an_infected_scan_in_a_folder_is_reported_once_and_the_others_kept(
    clamd, local_store, archivist, make_record, tmp_path
):
    from django.core.management import call_command

    record = make_record(legacy_number="SYTG-00042")
    folder = tmp_path / "scans" / "SYTG-00042"
    folder.mkdir(parents=True)
    for n in (1, 3, 4):
        (folder / f"{n:04d}.jpg").write_bytes(jpeg())
    (folder / "0002.jpg").write_bytes(infected_jpeg())
    out = io.StringIO()
    call_command("ingest_scans", str(folder.parent), json=True, stdout=out)
    report = json.loads(out.getvalue())
    assert report["pages"] == 3
    assert [(e["file"], e["code"]) for e in report["errors"]] == [("0002.jpg", "virus_found")]
    assert [p.filename for p in Page.objects.filter(record=record).order_by("position")] == [
        "0001.jpg",
        "0003.jpg",
        "0004.jpg",
    ]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.REFUSE).count() == 1
