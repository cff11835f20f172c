"""Approval steps a county sets: copy requests approved by the archivist, then the leader —
both steps, in order, each by its role, never by the requester; shown on the request page;
every step audited. Without steps, today's single approval."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from dangan.access import services
from dangan.access.models import AccessRequest
from dangan.accounts.models import ApprovalFlow, Role
from dangan.accounts.services import set_approval_flow
from dangan.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def sysadmin(make_user):
    return make_user(role=Role.SYSTEM_ADMIN, grants=())


@pytest.fixture
def two_steps(sysadmin):
    return set_approval_flow(
        actor=sysadmin, kind=ApprovalFlow.Kind.COPY_REQUEST, roles=[Role.ARCHIVIST, Role.LEADER]
    )


def test_a_two_step_approval_needs_both_steps_in_order(
    records, unit_clerk, archivist, leader, two_steps
):
    req = services.submit_request(requester=unit_clerk, record=records["controlled"])
    with pytest.raises(PermissionDenied):  # the leader's step comes second
        services.approve_request(actor=leader, access_request=req)
    services.approve_request(actor=archivist, access_request=req, reason="材料齐全")
    req.refresh_from_db()
    assert req.state == AccessRequest.State.SUBMITTED and req.certificate is None
    assert services.next_step(req) == (2, Role.LEADER)
    services.approve_request(actor=leader, access_request=req, reason="同意")
    req.refresh_from_db()
    assert req.state == AccessRequest.State.DELIVERED and req.decided_by == leader
    assert [(a.step, a.approver) for a in req.approvals.all()] == [(1, archivist), (2, leader)]
    steps = AuditEvent.objects.filter(object_id=str(req.pk), detail__has_key="approval_step")
    assert steps.count() == 2


def test_the_requester_never_approves_their_own_request(records, archivist, leader, two_steps):
    req = services.submit_request(requester=archivist, record=records["controlled"])
    with pytest.raises(PermissionDenied):
        services.approve_request(actor=archivist, access_request=req)
    assert not req.approvals.exists()


def test_the_requester_never_approves_with_todays_single_step(records, archivist):
    req = services.submit_request(requester=archivist, record=records["controlled"])
    with pytest.raises(PermissionDenied):
        services.approve_request(actor=archivist, access_request=req)


def test_one_person_takes_one_step_only(records, unit_clerk, make_user, sysadmin):
    set_approval_flow(
        actor=sysadmin,
        kind=ApprovalFlow.Kind.COPY_REQUEST,
        roles=[Role.ARCHIVIST, Role.LEADER],
    )
    req = services.submit_request(requester=unit_clerk, record=records["controlled"])
    keeper = make_user(role=Role.ARCHIVIST)
    services.approve_request(actor=keeper, access_request=req)
    keeper.role = Role.LEADER  # promoted in between: still one person
    keeper.save(update_fields=["role"])
    with pytest.raises(PermissionDenied):
        services.approve_request(actor=keeper, access_request=req)


def test_a_later_step_may_refuse(records, unit_clerk, archivist, leader, two_steps):
    req = services.submit_request(requester=unit_clerk, record=records["controlled"])
    services.approve_request(actor=archivist, access_request=req)
    with pytest.raises(PermissionDenied):  # not the archivist's step any more
        services.refuse_request(actor=archivist, access_request=req, reason="不同意")
    services.refuse_request(actor=leader, access_request=req, reason="与申请人无关")
    req.refresh_from_db()
    assert req.state == AccessRequest.State.REFUSED and req.certificate is None


@pytest.mark.parametrize(
    "roles, code",
    [
        ([], "no_steps"),
        ([Role.ARCHIVIST, Role.SECURITY_ADMIN], "not_approving_role"),
        ([Role.CITIZEN], "not_approving_role"),
        ([Role.LEADER, Role.LEADER], "repeated_role"),
    ],
)
def test_steps_that_are_no_approval_are_refused_with_the_reason(sysadmin, roles, code):
    with pytest.raises(ValidationError) as refused:
        set_approval_flow(actor=sysadmin, kind=ApprovalFlow.Kind.COPY_REQUEST, roles=roles)
    assert refused.value.code == code
    assert not ApprovalFlow.objects.exists()


def test_only_the_system_administrator_sets_the_steps(make_user):
    for role in (Role.SECURITY_ADMIN, Role.AUDITOR, Role.ARCHIVIST):
        with pytest.raises(PermissionDenied):
            set_approval_flow(
                actor=make_user(role=role, grants=()),
                kind=ApprovalFlow.Kind.COPY_REQUEST,
                roles=[Role.LEADER],
            )


def test_the_request_page_shows_the_steps_and_whose_turn_it_is(
    client, records, unit_clerk, archivist, leader, two_steps
):
    req = services.submit_request(requester=unit_clerk, record=records["controlled"])
    client.force_login(archivist)
    url = reverse("access:request-detail", args=[req.pk])
    client.post(url, {"decision": "approve", "reason": "材料齐全"})
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "材料齐全" in page and 'id="next-step"' in page and "Leader" in page
    assert 'id="decision-form"' not in page  # the archivist's step is done
    client.force_login(leader)
    assert 'id="decision-form"' in client.get(url).content.decode()


def test_the_system_administrator_sets_the_steps_in_the_admin(client, sysadmin):
    client.force_login(sysadmin)
    add = reverse("admin:accounts_approvalflow_add")
    answer = client.post(
        add, {"kind": "copy_request", "step_1": "leader", "step_2": "leader"}, follow=True
    )
    assert not ApprovalFlow.objects.exists() and answer.status_code == 200
    client.post(add, {"kind": "copy_request", "step_1": "archivist", "step_2": "leader"})
    assert ApprovalFlow.objects.get().roles == ["archivist", "leader"]
