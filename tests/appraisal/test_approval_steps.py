"""Destruction lists and opening reviews (开放审核) approved in the county's steps — the same
mechanism as copy requests (``accounts.approvals``): each step by its role, in order, never by
the one who asked, one person one step, each step audited and shown on the page. Without steps,
today's single designated head (tests/appraisal/test_destruction.py)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from dangan.accounts.models import ApprovalFlow, ApprovalStep, Role
from dangan.accounts.services import define_role, set_approval_flow
from dangan.appraisal import services
from dangan.appraisal.models import Batch, Choice, DestructionList
from dangan.audit.models import AuditEvent
from dangan.catalogue.models import Record

pytestmark = pytest.mark.django_db


@pytest.fixture
def sysadmin(make_user):
    return make_user(role=Role.SYSTEM_ADMIN, grants=())


@pytest.fixture
def section_head(sysadmin, make_user):
    """A county role of its own: the section head (科长), who reads records and approves."""
    define_role(
        actor=sysadmin,
        code="section_head",
        name="科长",
        permissions=["records.read", "appraisal.use", "workbench"],
    )
    return make_user(role="section_head")


def _steps(sysadmin, kind):
    return set_approval_flow(actor=sysadmin, kind=kind, roles=["section_head", Role.LEADER])


@pytest.fixture
def destruction_list(archivist, member, expired):
    record = expired(title="[待销毁档案]")
    batch = services.open_batch(
        actor=archivist, kind=Batch.Kind.RETENTION, title="2026", records=[record], members=[member]
    )
    services.decide(actor=member, item=batch.items.get(), choice=Choice.DESTROY, reason="到期")
    services.close_batch(actor=archivist, batch=batch)
    return batch


def test_a_two_step_destruction_needs_both_steps_in_order(
    sysadmin, section_head, leader, archivist, destruction_list
):
    _steps(sysadmin, ApprovalFlow.Kind.DESTRUCTION)
    listing = services.propose_destruction(actor=archivist, batch=destruction_list)
    assert listing.approver is None
    record = listing.items.get().record

    with pytest.raises(PermissionDenied):  # the leader's step comes second
        services.approve_destruction(actor=leader, listing=listing)
    with pytest.raises(PermissionDenied):  # the proposer never approves
        services.approve_destruction(actor=archivist, listing=listing)
    assert not services.may_decide_destruction(leader, listing)
    assert services.may_decide_destruction(section_head, listing)

    services.approve_destruction(actor=section_head, listing=listing, note="材料齐全")
    listing.refresh_from_db()
    record.refresh_from_db()
    assert listing.state == DestructionList.State.PROPOSED
    assert record.state == Record.State.FILED  # nothing destroyed after the first step
    with pytest.raises(PermissionDenied):  # one person, one step
        services.approve_destruction(actor=section_head, listing=listing)

    services.approve_destruction(actor=leader, listing=listing, note="同意销毁")
    listing.refresh_from_db()
    record.refresh_from_db()
    assert listing.state == DestructionList.State.DESTROYED
    assert record.state == Record.State.DESTROYED
    steps = ApprovalStep.objects.filter(kind="destruction", subject_id=listing.pk)
    assert [(s.step, s.role, s.approver) for s in steps] == [
        (1, "section_head", section_head),
        (2, Role.LEADER, leader),
    ]
    audited = AuditEvent.objects.filter(
        object_type="appraisal.destructionlist",
        object_id=str(listing.pk),
        detail__has_key="approval_step",
    )
    assert audited.count() == 2


def test_a_later_step_of_a_destruction_may_reject(
    sysadmin, section_head, leader, archivist, destruction_list
):
    _steps(sysadmin, ApprovalFlow.Kind.DESTRUCTION)
    listing = services.propose_destruction(actor=archivist, batch=destruction_list)
    services.approve_destruction(actor=section_head, listing=listing)
    with pytest.raises(PermissionDenied):
        services.reject_destruction(actor=section_head, listing=listing, note="x")
    services.reject_destruction(actor=leader, listing=listing, note="再议")
    listing.refresh_from_db()
    assert listing.state == DestructionList.State.REJECTED
    assert listing.items.get().record.state == Record.State.FILED


def test_the_destruction_page_shows_the_steps_and_whose_turn_it_is(
    client, sysadmin, section_head, leader, archivist, destruction_list
):
    _steps(sysadmin, ApprovalFlow.Kind.DESTRUCTION)
    listing = services.propose_destruction(actor=archivist, batch=destruction_list)
    url = reverse("appraisal:destruction-detail", args=[listing.pk])
    client.force_login(leader)
    page = client.get(url).content.decode()
    assert 'id="next-step"' in page and "科长" in page
    assert "destruction-approve" not in page and "/approve/" not in page  # not his turn
    client.force_login(section_head)
    page = client.get(url).content.decode()
    assert reverse("appraisal:destruction-approve", args=[listing.pk]) in page
    answer = client.post(
        reverse("appraisal:destruction-approve", args=[listing.pk]), {"note": "核对无误"}
    )
    assert answer.status_code == 302
    client.force_login(leader)
    page = client.get(url).content.decode()
    approve = reverse("appraisal:destruction-approve", args=[listing.pk])
    assert "核对无误" in page and approve in page


@pytest.fixture
def opening_batch(archivist, member, make_record):
    old = make_record(year=1990, date=datetime.date(1990, 3, 1), openness="unreviewed")
    batch = services.open_batch(
        actor=archivist, kind="opening", title="开放鉴定", records=[old], members=[member]
    )
    services.decide(actor=member, item=batch.items.get(), choice="open", reason="无个人信息")
    return batch, old


def test_a_two_step_opening_review_opens_only_after_both_steps_in_order(
    sysadmin, section_head, leader, archivist, opening_batch
):
    _steps(sysadmin, ApprovalFlow.Kind.OPENING)
    batch, record = opening_batch
    services.close_batch(actor=archivist, batch=batch)
    batch.refresh_from_db()
    record.refresh_from_db()
    assert batch.state == Batch.State.AWAITING and record.openness == "unreviewed"

    with pytest.raises(PermissionDenied):  # the leader's step comes second
        services.approve_opening(actor=leader, batch=batch)
    with pytest.raises(PermissionDenied):  # who asked never approves
        services.approve_opening(actor=archivist, batch=batch)
    services.approve_opening(actor=section_head, batch=batch, reason="同意")
    record.refresh_from_db()
    assert record.openness == "unreviewed"
    services.approve_opening(actor=leader, batch=batch, reason="同意开放")
    batch.refresh_from_db()
    record.refresh_from_db()
    assert batch.state == Batch.State.CLOSED and record.openness == "open"
    assert (
        AuditEvent.objects.filter(
            object_type="appraisal.batch", object_id=str(batch.pk), detail__has_key="approval_step"
        ).count()
        == 2
    )
    with pytest.raises(ValidationError):
        services.approve_opening(actor=leader, batch=batch)


def test_a_refused_opening_review_opens_nothing(
    sysadmin, section_head, archivist, opening_batch, client
):
    _steps(sysadmin, ApprovalFlow.Kind.OPENING)
    batch, record = opening_batch
    services.close_batch(actor=archivist, batch=batch)
    client.force_login(section_head)
    page = client.get(reverse("appraisal:batch-detail", args=[batch.pk])).content.decode()
    assert 'id="opening-approval"' in page
    with pytest.raises(ValidationError):  # the reason is required
        services.reject_opening(actor=section_head, batch=batch, reason=" ")
    client.post(
        reverse("appraisal:batch-approve", args=[batch.pk]),
        {"decision": "reject", "note": "涉及在世人员"},
    )
    batch.refresh_from_db()
    record.refresh_from_db()
    assert batch.state == Batch.State.REJECTED and record.openness == "unreviewed"


def test_without_steps_an_opening_review_opens_at_closing(archivist, opening_batch):
    batch, record = opening_batch
    services.close_batch(actor=archivist, batch=batch)
    record.refresh_from_db()
    assert record.openness == "open"
