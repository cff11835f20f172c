"""归档接口: a registered business system posts a record with its files and 办理过程 by its key,
idempotently by its own id, into the pre-archive queue; the archivist accepts or returns it; the
daily reconciliation counts what happened."""

import datetime
import json
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from dangan.accounts.models import Unit
from dangan.audit.models import AuditEvent
from dangan.catalogue.models import Record
from dangan.content.models import Blob, Page
from dangan.content.stores import get_store
from dangan.intake import filings
from dangan.intake.models import Filing, FilingFile, SenderDay
from dangan.pdf import pdfa_problems

from ..content.conftest import jpeg
from .test_records import _payload

pytestmark = pytest.mark.django_db

PROCESS = [
    {"step": "受理", "who": "王芳", "when": "2026-12-01T09:30:00+08:00", "what": "收件，材料齐全"},
    {"step": "审核", "who": "赵强", "when": "2026-12-02", "what": "核定失业保险待遇"},
]


@pytest.fixture
def unit(db):
    return Unit.objects.get_or_create(
        code="B03", defaults={"name": "县社会保险事业中心", "kind": Unit.Kind.BUSINESS}
    )[0]


@pytest.fixture
def sender(unit, callers):
    return filings.add_sender(actor=callers["system_admin"], name="社保业务系统", unit=unit)


def system(key):
    client = APIClient()
    if key:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def _post(client, sender_id, record, files, process=PROCESS, **extra):
    return client.post(
        "/api/v1/filings/",
        {
            "sender_id": sender_id,
            "record": json.dumps(record, ensure_ascii=False),
            "process": json.dumps(process, ensure_ascii=False),
            "files": [SimpleUploadedFile(name, data) for name, data in files],
            **extra,
        },
        format="multipart",
    )


def test_posting_the_same_record_twice_creates_it_once(sender):
    client = system(sender[1])
    scan = jpeg()
    first = _post(client, "SI-2026-000123", _payload(), [("p1.jpg", scan)])
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["created"] is True and body["state"] == "waiting"
    assert body["archival_code"] is None and body["checks"]["passed"] is True, body
    assert Filing.objects.count() == 1 and FilingFile.objects.count() == 1
    assert not Record.objects.filter(title=_payload()["title"]).exists()  # queued, not filed
    blobs = Blob.objects.count()

    again = _post(client, "SI-2026-000123", _payload(), [("p1.jpg", scan)])
    assert again.status_code == 200, again.content
    assert again.json()["created"] is False and again.json()["sender_id"] == "SI-2026-000123"
    assert Filing.objects.count() == 1 and FilingFile.objects.count() == 1
    assert Blob.objects.count() == blobs


def test_a_replayed_id_with_other_content_is_refused(sender):
    client = system(sender[1])
    assert _post(client, "SI-7", _payload(), [("a.jpg", jpeg(seed=b"a"))]).status_code == 201
    blobs = Blob.objects.count()
    for changed in (
        _post(client, "SI-7", _payload(title="[另一份档案]"), [("a.jpg", jpeg(seed=b"a"))]),
        _post(client, "SI-7", _payload(), [("a.jpg", jpeg(seed=b"b"))]),
        _post(client, "SI-7", _payload(), [("a.jpg", jpeg(seed=b"a"))], process=PROCESS[:1]),
    ):
        assert changed.status_code == 409, changed.content
        assert changed["Content-Type"] == "application/problem+json"
        assert changed.json()["code"] == "filing_conflict"
    assert Filing.objects.count() == 1 and Blob.objects.count() == blobs


def test_a_wrong_missing_or_disabled_key_is_refused(sender, callers):
    wrong = _post(system("dgk_00000000_nothing"), "SI-1", _payload(), [])
    assert wrong.status_code == 401 and wrong.json()["status"] == 401
    assert wrong["WWW-Authenticate"].startswith("Bearer")
    assert _post(system(None), "SI-1", _payload(), []).status_code == 401
    # a person logged in is not a sending system
    assert _post(APIClient(), "SI-1", _payload(), []).status_code == 401
    real, key = sender
    filings.set_active(actor=callers["system_admin"], sender=real, active=False)
    disabled = _post(system(key), "SI-1", _payload(), [])
    assert disabled.status_code == 403 and disabled.json()["code"] == "sender_disabled"
    new_key = filings.rotate_key(actor=callers["system_admin"], sender=real)
    filings.set_active(actor=callers["system_admin"], sender=real, active=True)
    assert _post(system(key), "SI-1", _payload(), []).status_code == 401  # the old key is gone
    assert _post(system(new_key), "SI-1", _payload(), []).status_code == 201
    assert Filing.objects.count() == 1


def test_bad_metadata_or_a_refused_file_stores_nothing(sender):
    client = system(sender[1])
    blobs = Blob.objects.count()
    bad = _post(
        client,
        "SI-9",
        _payload(metadata={"custody_date": "不是日期"}, colour="红"),
        [("p1.jpg", jpeg())],
        process=[{"who": "", "when": "昨天", "what": "审核"}],
    )
    assert bad.status_code == 400, bad.content
    pointers = {e["pointer"] for e in bad.json()["errors"]}
    assert {"#/record/metadata/custody_date", "#/record/colour"} <= pointers, pointers
    assert {"#/process/0/who", "#/process/0/when"} <= pointers, pointers
    exe = b"MZ\x90" + bytes(500)
    virus = _post(client, "SI-9", _payload(), [("a.jpg", jpeg()), ("v.exe", exe)])
    assert virus.status_code == 400 and virus.json()["errors"][0]["code"] == "format_executable"
    assert Filing.objects.count() == 0 and FilingFile.objects.count() == 0
    assert Blob.objects.count() == blobs  # the good file of the refused post is not kept either
    # the id was not used: the same id with good content is taken
    assert _post(client, "SI-9", _payload(), [("p1.jpg", jpeg())]).status_code == 201


def test_accepted_the_record_is_filed_with_its_files_and_process(sender, callers, tmp_path):
    client = system(sender[1])
    files = [("p1.jpg", jpeg()), ("p2.jpg", jpeg())]
    assert _post(client, "SI-20", _payload(), files).status_code == 201
    filing = Filing.objects.get()
    record = filings.accept(actor=callers["archivist"], filing=filing)
    assert record.state == Record.State.FILED and record.archival_code
    assert record.unit == sender[0].unit
    pages = list(Page.objects.filter(record=record).order_by("position").select_related("blob"))
    assert [p.filename for p in pages] == ["p1.jpg", "p2.jpg", filings.PROCESS_SHEET]
    assert [p.blob.sha256 for p in pages[:2]] == [f.blob.sha256 for f in filing.files.all()]
    with get_store().open(pages[2].blob.key) as f:
        sheet = f.read()
    assert pdfa_problems(sheet) == []
    (tmp_path / "sheet.pdf").write_bytes(sheet)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "sheet.pdf"), "-"], capture_output=True, text=True
    ).stdout
    assert "王芳" in text and "核定失业保险待遇" in text
    fonts = subprocess.run(
        ["pdffonts", str(tmp_path / "sheet.pdf")], capture_output=True, text=True
    ).stdout
    assert "CID" in fonts and " yes " in fonts  # a CJK font, embedded
    assert AuditEvent.objects.filter(action=AuditEvent.Action.IMPORT, object_id=str(record.pk))
    answer = client.get("/api/v1/filings/SI-20/")
    assert answer.status_code == 200
    assert answer.json()["state"] == "accepted"
    assert answer.json()["archival_code"] == record.archival_code
    call_command("verify", "--json", "--no-seal")  # exits 1 on any problem


def test_returned_the_sender_reads_the_reason(sender, callers):
    client = system(sender[1])
    assert _post(client, "SI-30", _payload(), [("p1.jpg", jpeg())]).status_code == 201
    filing = Filing.objects.get()
    filings.return_filing(actor=callers["archivist"], filing=filing, reason="缺少身份证复印件")
    answer = client.get("/api/v1/filings/SI-30/")
    assert answer.status_code == 200, answer.content
    assert answer.json()["state"] == "returned"
    assert answer.json()["reason"] == "缺少身份证复印件"
    assert not Record.objects.filter(title=_payload()["title"]).exists()
    # another system cannot read it
    other = filings.add_sender(actor=None, name="另一个系统", unit=sender[0].unit)
    assert system(other[1]).get("/api/v1/filings/SI-30/").status_code == 404


def test_the_reconciliation_counts_what_happened(sender, callers, capsys):
    client = system(sender[1])
    for n in range(4):
        assert _post(client, f"SI-4{n}", _payload(), [("p.jpg", jpeg())]).status_code == 201
    _post(client, "SI-40", _payload(), [("x.jpg", jpeg())])  # refused: counted nowhere
    queue = list(Filing.objects.order_by("external_id"))
    filings.accept(actor=callers["archivist"], filing=queue[0])
    filings.return_filing(actor=callers["archivist"], filing=queue[1], reason="题名有误")
    today = timezone.localdate()
    call_command("senders", "reconcile", "--day", today.isoformat(), "--json")
    rows = json.loads(capsys.readouterr().out)
    assert rows == [
        {
            "sender": "社保业务系统",
            "unit": "B03",
            "active": True,
            "day": today.isoformat(),
            "sent": 4,
            "accepted": 1,
            "returned": 1,
            "waiting": 2,
        }
    ]
    yesterday = filings.reconcile(today - datetime.timedelta(days=1))
    assert [(r["sent"], r["waiting"]) for r in yesterday] == [(0, 0)]
    filings.keep_reconciliation(day=today)
    kept = SenderDay.objects.get()
    assert (kept.sent, kept.accepted, kept.returned, kept.waiting) == (4, 1, 1, 2)


def test_the_command_registers_a_system_and_prints_its_key_once(unit, capsys):
    call_command("senders", "add", "医保结算系统", "--unit", "B03")
    key = capsys.readouterr().out.strip()
    assert key.startswith("dgk_")
    assert _post(system(key), "YB-1", _payload(), []).status_code == 201
    call_command("senders", "list", "--json")
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["name"] == "医保结算系统" and key not in json.dumps(listed)
    assert filings.Sender.objects.get().key_hash != key
