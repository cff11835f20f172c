"""The pages of the 归档接口: the system administrator registers a sending system (its key shown
once), the archivist works the pre-archive queue, and both read the daily reconciliation."""

import io

import pytest
from django.utils import timezone

from dangan.accounts.models import Role, Unit
from dangan.audit.models import AuditEvent
from dangan.catalogue.models import Record
from dangan.intake import filings
from dangan.intake.models import Filing, Sender

from ..api.conftest import id_number

pytestmark = pytest.mark.django_db


def _record(**changes):
    return {
        "fonds": "A001",
        "category": "SYTG",
        "title": "[王五失业人员托管档案]",
        "date": "2026-12-01",
        "metadata": {"work_unit": "县纺织厂", "custody_date": "2026年12月"},
        "persons": [{"id_number": id_number("11010119700202003"), "name": "王五"}],
        **changes,
    }


@pytest.fixture
def unit(db):
    return Unit.objects.create(code="B09", name="县就业服务中心", kind=Unit.Kind.BUSINESS)


@pytest.fixture
def queued(unit, content_dir, scan):
    sender, _key = filings.add_sender(actor=None, name="就业业务系统", unit=unit)
    made = []
    for n in range(2):
        filing, _created = filings.post_filing(
            sender=sender,
            external_id=f"JY-{n}",
            record=_record(),
            process=[{"who": "李四", "when": "2026-12-01", "what": "登记"}],
            files=[(f"p{n}.jpg", io.BytesIO(scan(n + 1)))],
        )
        made.append(filing)
    return made


def test_the_system_administrator_registers_a_system_and_sees_its_key_once(client, make_user, unit):
    admin = make_user(role=Role.SYSTEM_ADMIN, grants=())
    client.force_login(admin)
    answer = client.post("/intake/senders/", {"name": "社保业务系统", "unit": unit.pk})
    assert answer.status_code == 200
    sender = Sender.objects.get()
    key = answer.context["shown"]["key"]
    assert key in answer.content.decode() and filings.sender_for_key(key) == sender
    assert key not in client.get("/intake/senders/").content.decode()
    assert AuditEvent.objects.filter(object_type="intake.sender", object_id=str(sender.pk))
    rotated = client.post(f"/intake/senders/{sender.pk}/", {"action": "rotate"})
    new_key = rotated.context["shown"]["key"]
    assert filings.sender_for_key(key) is None and filings.sender_for_key(new_key) == sender
    client.post(f"/intake/senders/{sender.pk}/", {"action": "disable"})
    assert Sender.objects.get().active is False
    # the same name twice is refused with the reason
    again = client.post("/intake/senders/", {"name": "社保业务系统", "unit": unit.pk})
    assert Sender.objects.count() == 1 and again.context["form"].errors


def test_only_the_system_administrator_registers_and_only_the_archive_sees_the_queue(
    client, make_user
):
    client.force_login(make_user(role=Role.ARCHIVIST))
    assert client.get("/intake/senders/").status_code == 403
    assert client.get("/intake/filings/").status_code == 200
    client.force_login(make_user(role=Role.SYSTEM_ADMIN, grants=()))
    assert client.get("/intake/filings/").status_code == 403
    assert client.get("/intake/filings/reconciliation/").status_code == 200
    client.force_login(make_user(role=Role.TOWN_CLERK, grants=()))
    for url in ("/intake/senders/", "/intake/filings/", "/intake/filings/reconciliation/"):
        assert client.get(url).status_code == 403


def test_the_archivist_accepts_one_and_returns_the_other(client, archivist, queued):
    client.force_login(archivist)
    queue = client.get("/intake/filings/")
    text = queue.content.decode()
    # Each line shows its newest check's verdict, read for the whole queue at once.
    assert {f.pk: f.passed for f in queue.context["filings"]} == {
        f.pk: filings.latest_check(f).passed for f in queued
    }
    assert "JY-0" in text and "JY-1" in text and "[王五失业人员托管档案]" in text
    detail = client.get(f"/intake/filings/{queued[0].pk}/").content.decode()
    assert "GD-" in detail and "李四" in detail  # the checks' results and the 办理过程
    assert id_number("11010119700202003") not in detail  # ID numbers masked
    read = AuditEvent.objects.filter(action="read", object_type="intake.filing")
    assert read.filter(actor=archivist, object_id=str(queued[0].pk)).exists()
    client.post(f"/intake/filings/{queued[0].pk}/", {"action": "accept"})
    client.post(f"/intake/filings/{queued[1].pk}/", {"action": "return", "reason": "日期有误"})
    first, second = (Filing.objects.get(pk=f.pk) for f in queued)
    assert first.state == "accepted" and first.record.state == Record.State.FILED
    assert second.state == "returned" and second.reason == "日期有误"
    assert "JY-0" not in client.get("/intake/filings/").content.decode()  # waiting only
    day = timezone.localdate().isoformat()
    page = client.get(f"/intake/filings/reconciliation/?day={day}")
    row = page.context["rows"][0]
    assert (row["sent"], row["accepted"], row["returned"], row["waiting"]) == (2, 1, 1, 0)


def test_a_return_needs_a_reason(client, archivist, queued):
    client.force_login(archivist)
    client.post(f"/intake/filings/{queued[0].pk}/", {"action": "return", "reason": " "})
    assert Filing.objects.get(pk=queued[0].pk).state == "waiting"
