"""Access requests: the rules by openness and secrecy, approval, delivery, the delivery link."""

import datetime
import subprocess

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError

from dangan.access import services
from dangan.access.models import AccessRequest, Use
from dangan.accounts.models import Secrecy
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


def test_watermark_names_requester_time_and_number_on_every_page(records, unit_clerk):
    unit_clerk.first_name, unit_clerk.last_name = "伟", "王"
    unit_clerk.save()
    req = services.submit_request(requester=unit_clerk, record=records["open"])
    text = pdf_text(delivered_bytes(req))
    pages = text.split("\f")[:-1]
    assert len(pages) == 2  # the certificate's cover and the one scanned page
    for page in pages:
        assert req.number in page
        assert "王伟" in page or "伟 王" in page or unit_clerk.get_full_name() in page
        assert f"{req.delivered_at.astimezone(datetime.UTC).year}" in page
    assert req.certificate.number in pages[0]


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
