"""异地查档 within one installation: a desk in 东台县 asks for a person's files kept by 射阳县;
射阳县 decides by its own rules; its certificate is delivered to the desk, printed there and
checked at /verify/ like any other."""

import io
import json
import subprocess

import pikepdf
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from dangan.access import watermark
from dangan.access.models import Use
from dangan.accounts.models import Role, Secrecy
from dangan.audit.models import AuditEvent
from dangan.integrity.models import LedgerEntry
from dangan.remote import services
from dangan.remote.models import RemoteRequest
from tests.access.conftest import PERSON
from tests.api.conftest import id_number

pytestmark = pytest.mark.django_db


def _pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "copy.pdf"
    path.write_bytes(data)
    fonts = subprocess.run(["pdffonts", path], capture_output=True, text=True).stdout
    assert "Noto" in fonts and "yes" in fonts  # the Chinese is drawn with an embedded CJK font
    return subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True).stdout


def test_open_records_are_delivered_at_the_asking_desk_issued_by_the_holder(
    desk_clerk, held, logged_in, tmp_path
):
    record = held(openness="open", secrecy=Secrecy.INTERNAL)
    req = services.ask(actor=desk_clerk, holder="C02", id_number=PERSON["id_number"])
    req.refresh_from_db()
    assert req.state == "delivered" and req.number.startswith("YD") and "-C01-" in req.number
    (copy,) = req.certificates.all()
    assert copy.issuer_name == "射阳县" and copy.certificate.record == record
    # One use of the holder's record, counted in its statistics like any delivered copy.
    assert Use.objects.filter(record=record, channel="request").count() == 1
    client = logged_in(desk_clerk)
    page = client.get(reverse("remote:desk-detail", args=[req.pk])).content.decode()
    assert "射阳县" in page and "东台县" in page and copy.number in page
    pdf = b"".join(client.get(reverse("remote:copy-pdf", args=[copy.pk])).streaming_content)
    text = _pdf_text(pdf, tmp_path)
    assert "射阳县" in text  # the issuer on the cover
    # The watermark names holder, desk and request, drawn as shapes (not in the text layer).
    mark = watermark.content_stream(
        f"Issued by 射阳县, delivered at 东台县 · request {req.number}"
    ).encode()
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        assert any(mark == o.read_bytes() for o in opened.objects if isinstance(o, pikepdf.Stream))
    assert "delivered at" not in text
    # The certificate printed at the desk is the holder's, and verifies genuine at /verify/.
    check = client.get(copy.verify_url.replace("http://localhost:8000", ""))
    assert check.status_code == 200 and copy.number in check.content.decode()
    assert check.context["signature_valid"]
    kinds = set(LedgerEntry.objects.values_list("kind", flat=True))
    assert {"certificate.issued", "certificate.delivered"} <= kinds
    steps = AuditEvent.objects.filter(object_type__icontains="remoterequest")
    assert steps.filter(action="create").count() >= 2  # asked, delivered
    assert steps.filter(action="download").exists()


def test_controlled_records_wait_for_the_holders_archivist(
    desk_clerk, holder, held, logged_in, make_user, province
):
    record = held(openness="controlled")
    req = services.ask(actor=desk_clerk, holder="C02", id_number=PERSON["id_number"])
    req.refresh_from_db()
    assert req.state == "received"
    # The holder sees it in the inbox, with the records it holds of the person.
    page = logged_in(holder).get(reverse("remote:inbox-detail", args=[req.pk]))
    assert page.status_code == 200 and "[测试档案" in page.content.decode()
    # An archivist of the asking county does not answer for 射阳县: not in their inbox.
    theirs = make_user(role=Role.ARCHIVIST, unit=province["C01"]["bureau"])
    assert logged_in(theirs).get(reverse("remote:inbox-detail", args=[req.pk])).status_code == 404
    # The desk sees the request but none of the holder's catalogue.
    desk = logged_in(desk_clerk).get(reverse("remote:desk-detail", args=[req.pk])).content
    assert "[测试档案".encode() not in desk
    logged_in(holder).post(
        reverse("remote:inbox-detail", args=[req.pk]),
        {"decision": "approve", "records": [record.pk]},
    )
    req.refresh_from_db()
    assert req.state == "delivered" and req.decided_by == holder and req.certificates.count() == 1
    # Looking at the person's records again after the answer is a read too, and audited.
    reads = AuditEvent.objects.filter(object_type__icontains="remoterequest", action="read")
    before = reads.count()
    logged_in(holder).get(reverse("remote:inbox-detail", args=[req.pk]))
    assert reads.count() == before + 1


def test_none_held_and_refusals_reach_the_desk_with_their_reasons(desk_clerk, holder, logged_in):
    req = services.ask(actor=desk_clerk, holder="C02", id_number=PERSON["id_number"])
    # Nothing held: the rules do not answer, a person does.
    assert RemoteRequest.objects.get(pk=req.pk).state == "received"
    logged_in(holder).post(
        reverse("remote:inbox-detail", args=[req.pk]), {"decision": "none_held", "reason": ""}
    )
    req.refresh_from_db()
    assert req.state == "refused" and req.records_found == 0
    page = logged_in(desk_clerk).get(reverse("remote:desk-detail", args=[req.pk])).content
    assert "No records of this person are held here." in page.decode() or "未" in page.decode()


def test_secret_records_never_go_and_a_refusal_needs_reasons(desk_clerk, holder, held):
    held(openness="controlled", secrecy=Secrecy.SECRET)
    req = services.ask(actor=desk_clerk, holder="C02", id_number=PERSON["id_number"])
    with pytest.raises(Exception, match="No record to deliver"):
        services.approve(actor=holder, remote_request=req)
    with pytest.raises(Exception, match="reason"):
        services.refuse(actor=holder, remote_request=req)
    services.refuse(actor=holder, remote_request=req, reason="涉密档案，请到馆查阅")
    assert RemoteRequest.objects.get(pk=req.pk).state == "refused"


def test_bad_input_is_told_and_stores_nothing(desk_clerk):
    for holder, number, message in (
        ("C02", "123", "ID"),
        ("XX9", PERSON["id_number"], "No archive"),
        ("C01", PERSON["id_number"], "own"),
    ):
        with pytest.raises(Exception, match=message):
            services.ask(actor=desk_clerk, holder=holder, id_number=number)
    assert not RemoteRequest.objects.exists()


def test_the_commands_ask_answer_and_tell_the_state(desk_clerk, holder, held, capsys):
    held(openness="controlled")
    call_command(
        "remote", "ask", "--peer", "C02", "--id-number", PERSON["id_number"],
        "--purpose", "退休审批", "--user", desk_clerk.username, "--json",
    )  # fmt: skip
    asked = json.loads(capsys.readouterr().out)
    assert asked["state"] == "received"
    call_command("remote", "inbox", "--json")
    (row,) = json.loads(capsys.readouterr().out)
    assert row["number"] == asked["number"] and row["peer"] == "C01"
    number = PERSON["id_number"]
    assert row["id_number_masked"] == number[:6] + "********" + number[-4:]
    assert row["state"] == "received"
    call_command(
        "remote", "answer", asked["number"], "--approve", "--user", holder.username, "--json"
    )
    capsys.readouterr()
    call_command("remote", "status", asked["number"], "--json")
    status = json.loads(capsys.readouterr().out)
    assert status["state"] == "delivered"
    assert status["certificate"].startswith("ZM") and "/verify/" in status["verify_url"]


def test_the_annual_report_counts_requests_sent_received_answered(
    desk_clerk, holder, held, make_user, province, logged_in
):
    held(openness="open", secrecy=Secrecy.INTERNAL)
    services.ask(actor=desk_clerk, holder="C02", id_number=PERSON["id_number"])
    unanswered = services.ask(
        actor=desk_clerk, holder="C02", id_number=id_number("11010119750101123")
    )
    assert RemoteRequest.objects.get(pk=unanswered.pk).state == "received"
    year = RemoteRequest.objects.first().created_at.year
    leaders = {
        code: make_user(role=Role.LEADER, unit=province[code]["bureau"]) for code in province
    }
    asking = logged_in(leaders["C01"]).get(f"/stats/report/?year={year}").context["report"]
    assert asking.remote | {"days_to_answer": None} == {
        "sent": 2, "received": 0, "answered": 0, "delivered": 1, "days_to_answer": None,
    }  # fmt: skip
    holding = logged_in(leaders["C02"]).get(f"/stats/report/?year={year}")
    report = holding.context["report"]
    assert report.remote["received"] == 2 and report.remote["answered"] == 1
    assert report.remote["days_to_answer"] is not None
    assert "异地查档受理(件)" in holding.content.decode()


def test_the_desk_withdraws_a_request_not_yet_answered(desk_clerk, holder, held, logged_in):
    held(openness="controlled")
    req = services.ask(actor=desk_clerk, holder="C02", id_number=PERSON["id_number"])
    logged_in(desk_clerk).post(reverse("remote:withdraw", args=[req.pk]), {"reason": "已办结"})
    req.refresh_from_db()
    assert req.state == "refused" and "已办结" in req.decision_reason
    with pytest.raises(ValidationError) as refused:
        services.approve(actor=holder, remote_request=req)
    assert refused.value.code == "already_answered"
