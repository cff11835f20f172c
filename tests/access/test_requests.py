"""Access requests: the rules by openness and secrecy, approval, delivery, the delivery link."""

import io
import subprocess
from pathlib import Path

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from dangan.access import services, watermark
from dangan.access.models import AccessRequest, Use
from dangan.accounts.models import Role, Secrecy
from dangan.audit.models import AuditEvent
from dangan.content.selectors import open_blob

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def delivered_bytes(req) -> bytes:
    with open_blob(req.certificate.blob) as stream:
        return stream.read()


def test_open_record_is_delivered_at_once(records, unit_clerk):
    req = services.submit_request(requester=unit_clerk, record=records["open"])
    assert req.state == AccessRequest.State.DELIVERED
    assert req.source == AccessRequest.Source.UNIT
    assert req.certificate is not None
    assert Use.objects.filter(record=records["open"], channel=Use.Channel.REQUEST).count() == 1


def test_a_requests_source_follows_the_duty_of_a_county_role_not_its_code(records, make_user):
    """Roles are data: a county's own village clerk who sends hand-over lists for their unit
    asks as another unit; a county role without that duty asks as staff."""
    from dangan.accounts.services import define_role

    sysadmin = make_user(role=Role.SYSTEM_ADMIN, grants=())
    define_role(
        actor=sysadmin,
        code="village_clerk",
        name="村级协理员",
        permissions=["records.read", "intake.send", "workbench"],
    )
    define_role(actor=sysadmin, code="section_head", permissions=["records.read", "workbench"])
    grants = ({"max_secrecy": Secrecy.INTERNAL},)
    for role, source in (
        ("village_clerk", AccessRequest.Source.UNIT),
        ("section_head", AccessRequest.Source.STAFF),
        (Role.READING_CLERK, AccessRequest.Source.STAFF),
    ):
        requester = make_user(role=role, grants=grants)
        req = services.submit_request(requester=requester, record=records["open"])
        assert req.source == source, role


def test_controlled_record_waits_for_approval(records, unit_clerk):
    req = services.submit_request(requester=unit_clerk, record=records["controlled"])
    assert req.state == AccessRequest.State.SUBMITTED
    assert req.certificate is None
    assert not req.is_downloadable


def test_secret_record_is_refused_with_a_reason_and_never_delivered(records, archivist):
    req = services.submit_request(requester=archivist, record=records["secret"])
    assert req.state == AccessRequest.State.REFUSED
    assert "never delivered online" in req.decision_reason
    assert req.certificate is None


def test_approver_delivers_a_controlled_record(records, unit_clerk, archivist):
    req = services.submit_request(requester=unit_clerk, record=records["controlled"])
    services.approve_request(actor=archivist, access_request=req, reason="本人申请")
    req.refresh_from_db()
    assert req.state == AccessRequest.State.DELIVERED
    assert req.decided_by == archivist
    assert req.certificate.request == req
    actions = AuditEvent.objects.filter(object_type="access.accessrequest", object_id=str(req.pk))
    assert [a.action for a in actions.order_by("id")] == ["create", "update"]
    assert AuditEvent.objects.filter(
        object_type="access.certificate", object_id=str(req.certificate_id), action="create"
    ).exists()


def test_a_leader_may_approve_but_a_reading_clerk_may_not(records, unit_clerk, clerk, leader):
    req = services.submit_request(requester=unit_clerk, record=records["controlled"])
    with pytest.raises(PermissionDenied):
        services.approve_request(actor=clerk, access_request=req)
    services.approve_request(actor=leader, access_request=req)
    assert AccessRequest.objects.get(pk=req.pk).state == AccessRequest.State.DELIVERED


def test_refusal_needs_reasons_and_is_final(records, unit_clerk, archivist):
    req = services.submit_request(requester=unit_clerk, record=records["controlled"])
    with pytest.raises(ValidationError):
        services.refuse_request(actor=archivist, access_request=req, reason=" ")
    services.refuse_request(actor=archivist, access_request=req, reason="与申请人无关")
    with pytest.raises(ValidationError) as exc:
        services.approve_request(actor=archivist, access_request=req)
    assert exc.value.code == "already_decided"


def test_a_record_made_secret_after_the_request_cannot_be_approved(records, unit_clerk, archivist):
    req = services.submit_request(requester=unit_clerk, record=records["controlled"])
    type(records["controlled"]).objects.filter(pk=records["controlled"].pk).update(secrecy=3)
    with pytest.raises(ValidationError) as exc:
        services.approve_request(actor=archivist, access_request=req)
    assert exc.value.code == "secret_never_online"


def test_a_record_outside_the_requesters_grants_cannot_be_requested(records, make_user):
    from dangan.accounts.models import Role

    outsider = make_user(role=Role.UNIT_CLERK, grants=())
    with pytest.raises(ValidationError) as exc:
        services.submit_request(requester=outsider, record=records["open"])
    assert exc.value.code == "not_requestable"


def test_a_destroyed_record_cannot_be_requested(records, unit_clerk):
    """A tombstone (state 'purged') is no longer held: nothing of it is copied or certified."""
    from dangan.catalogue.models import Record

    Record.objects.filter(pk=records["open"].pk).update(state=Record.State.DESTROYED)
    with pytest.raises(ValidationError) as exc:
        services.submit_request(requester=unit_clerk, record=records["open"])
    assert exc.value.code == "not_requestable"


def test_citizen_may_request_a_record_of_the_open_catalogue(records, citizen):
    records["open"].secrecy = Secrecy.PUBLIC  # 开放 and 公开: what the public search shows
    records["open"].save(update_fields=["secrecy"])
    req = services.submit_request(requester=citizen, record=records["open"])
    assert req.source == AccessRequest.Source.CITIZEN
    assert req.state == AccessRequest.State.DELIVERED


def test_an_internal_record_is_not_for_the_public_even_when_open(records, citizen):
    assert records["open"].secrecy == Secrecy.INTERNAL  # and not the citizen's own
    with pytest.raises(ValidationError):
        services.submit_request(requester=citizen, record=records["open"])


def red_pixels(data: bytes, page: int) -> int:
    """How many pixels of page ``page`` (1-based) are drawn in the watermark's red."""
    import tempfile

    from PIL import Image

    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "copy.pdf").write_bytes(data)
        subprocess.run(
            ["pdftoppm", "-r", "72", "-f", str(page), "-singlefile", "-png", "copy.pdf", "page"],
            cwd=folder,
            check=True,
        )
        image = Image.open(Path(folder, "page.png")).convert("RGB")
    return sum(1 for r, g, b in image.get_flattened_data() if r > g + 40 and r > b + 40)


def test_watermark_is_drawn_on_every_page_and_is_not_in_the_text_layer(records, unit_clerk):
    unit_clerk.first_name, unit_clerk.last_name = "伟", "王"
    unit_clerk.save()
    with translation.override("zh-hans"):
        req = services.submit_request(requester=unit_clerk, record=records["open"])
    data = delivered_bytes(req)
    text = pdf_text(data)
    pages = text.split("\f")[:-1]
    assert len(pages) == 2  # the certificate's cover and the one scanned page
    # The cover states the certificate and the request; the scan has no text, and the
    # watermark adds none: its letters are drawn as shapes.
    assert req.certificate.number in pages[0] and req.number in pages[0]
    assert pages[1].strip() == ""
    assert "王伟" not in text and "伟 王" not in text
    for page in (1, 2):
        assert red_pixels(data, page) > 200  # but every page shows it
    # What is drawn is the requester, the time and the request number.
    when = timezone.localtime(req.delivered_at).strftime("%Y-%m-%d %H:%M")
    drawn = watermark.content_stream(f"{req.requester_name} · {when} · 申请 {req.number}")
    assert drawn.encode() in pikepdf_streams(data)


def pikepdf_streams(data: bytes) -> bytes:
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        return b"".join(obj.read_bytes() for obj in pdf.objects if isinstance(obj, pikepdf.Stream))


def test_a_request_for_a_record_held_on_paper_only_is_refused_with_the_reason(
    make_record, archivist, unit_clerk
):
    record = make_record(actor=archivist, openness="open", secrecy=Secrecy.INTERNAL)
    with translation.override("zh-hans"):
        req = services.submit_request(requester=unit_clerk, record=record)
    assert req.state == AccessRequest.State.REFUSED
    assert "纸质" in req.decision_reason
    assert req.certificate is None


def _download(client, url):
    response = client.get(url)
    return response.status_code, b"".join(
        response.streaming_content
    ) if response.status_code == 200 else b""


def test_requester_downloads_through_the_link(records, unit_clerk, logged_in):
    req = services.submit_request(requester=unit_clerk, record=records["open"])
    status, body = _download(logged_in(unit_clerk), services.delivery_url(access_request=req))
    assert status == 200
    assert body == delivered_bytes(req)
    assert AuditEvent.objects.filter(action="download", object_id=str(req.record_id)).exists()


def test_another_users_link_is_refused(records, unit_clerk, make_user, logged_in):
    req = services.submit_request(requester=unit_clerk, record=records["open"])
    other = make_user()
    status, _body = _download(logged_in(other), services.delivery_url(access_request=req))
    assert status == 404


def test_a_forged_link_is_refused(records, unit_clerk, logged_in):
    req = services.submit_request(requester=unit_clerk, record=records["open"])
    url = services.delivery_url(access_request=req)
    status, _body = _download(logged_in(unit_clerk), url[:-3] + "abc/")
    assert status == 404


def test_an_expired_link_is_refused(records, unit_clerk, logged_in, settings):
    req = services.submit_request(requester=unit_clerk, record=records["open"])
    url = services.delivery_url(access_request=req)
    settings.DANGAN_DELIVERY_LINK_HOURS = 0
    import time

    time.sleep(1.1)
    status, _body = _download(logged_in(unit_clerk), url)
    assert status == 410


def test_a_link_needs_a_login(records, unit_clerk, client):
    req = services.submit_request(requester=unit_clerk, record=records["open"])
    response = client.get(services.delivery_url(access_request=req))
    assert response.status_code == 302


def test_token_names_the_request_and_the_user_only():
    data = signing.loads(
        signing.dumps({"r": 1, "u": 2}, salt=services.DELIVERY_SALT), salt=services.DELIVERY_SALT
    )
    assert data == {"r": 1, "u": 2}


def test_approver_decides_on_the_request_page(records, unit_clerk, archivist, clerk, logged_in):
    req = services.submit_request(requester=unit_clerk, record=records["controlled"])
    desk = logged_in(clerk)
    page = desk.get(f"/access/requests/{req.pk}/")
    assert page.status_code == 200
    assert b'id="decision-form"' not in page.content  # a reading clerk does not decide
    desk.post(f"/access/requests/{req.pk}/", {"decision": "approve"})
    assert AccessRequest.objects.get(pk=req.pk).state == AccessRequest.State.SUBMITTED
    approver = logged_in(archivist)
    assert b'id="decision-form"' in approver.get(f"/access/requests/{req.pk}/").content
    approver.post(f"/access/requests/{req.pk}/", {"decision": "refuse", "reason": "无关"})
    req.refresh_from_db()
    assert (req.state, req.decision_reason, req.decided_by) == ("refused", "无关", archivist)


def test_unit_clerk_requests_and_downloads_from_the_request_page(records, unit_clerk, logged_in):
    client = logged_in(unit_clerk)
    response = client.post(
        "/access/requests/", {"record": records["open"].archival_code, "purpose": "work"}
    )
    assert response.status_code == 302
    req = AccessRequest.objects.get()
    page = client.get("/access/requests/").content.decode()
    assert req.number in page and "/access/delivery/" in page
