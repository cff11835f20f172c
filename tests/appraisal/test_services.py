"""Retention at work: the due list, holds, batches and decisions, open-access appraisal."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dangan.accounts.models import Role
from dangan.appraisal import selectors, services
from dangan.appraisal.models import Batch, Choice, DestructionList
from dangan.catalogue.models import Record

pytestmark = pytest.mark.django_db


def _retention_batch(archivist, members, records):
    return services.open_batch(
        actor=archivist,
        kind=Batch.Kind.RETENTION,
        title="2026 expiry appraisal",
        records=records,
        members=members,
    )


def _decide_all(batch, members, choice, **extra):
    for item in batch.items.all():
        for member in members:
            services.decide(
                actor=member, item=item, choice=choice, reason="served its time", **extra
            )


def test_due_list_holds_expired_records_only(archivist, make_record, expired):
    old = expired()
    make_record(retention="Y", year=1990)  # permanent
    make_record(retention="D30", year=2001)  # kept until 2032
    make_record(retention="D10", year=2020, date=datetime.date(2020, 1, 1))  # until 2031

    due = selectors.due_records(archivist, today=datetime.date(2026, 11, 25))

    assert list(due) == [old]
    summary = selectors.due_summary(archivist, today=datetime.date(2026, 11, 25))
    assert [(row["year"], row["count"]) for row in summary] == [(2001, 1)]


def test_expiry_counts_from_first_january_after_the_year(archivist, expired):
    record = expired(year=2015, date=datetime.date(2015, 12, 31))  # expires 2026-01-01

    assert not selectors.due_records(archivist, today=datetime.date(2025, 12, 31)).exists()
    assert list(selectors.due_records(archivist, today=datetime.date(2026, 1, 1))) == [record]
    assert record.retention_expires == datetime.date(2026, 1, 1)


def test_a_held_record_is_never_offered_for_destruction(archivist, member, leader, expired):
    held, free = expired(), expired()
    hold = services.place_hold(actor=archivist, record=held, kind="dispute", reason="pension case")

    assert list(selectors.due_records(archivist)) == [free]
    with pytest.raises(ValidationError) as refused:
        _retention_batch(archivist, [member], [held, free])
    assert refused.value.code == "not_due"

    # Released: due again; put in a batch, decided for destruction, then held again.
    services.release_hold(actor=archivist, hold=hold)
    batch = _retention_batch(archivist, [member], [held, free])
    _decide_all(batch, [member], Choice.DESTROY)
    services.close_batch(actor=archivist, batch=batch)
    services.place_hold(actor=archivist, record=held, kind="audit", reason="audit 2026")

    offered = [item.record for item in services.offered_for_destruction(batch)]
    assert offered == [free]
    listing = services.propose_destruction(actor=archivist, batch=batch, approver=leader)
    assert [i.record for i in listing.items.all()] == [free]

    # A hold placed after the list was proposed stops its approval.
    services.place_hold(actor=archivist, record=free, kind="litigation", reason="court order")
    with pytest.raises(ValidationError) as refused:
        services.approve_destruction(actor=leader, listing=listing)
    assert refused.value.code == "list_held"
    assert Record.objects.filter(state=Record.State.DESTROYED).count() == 0


def test_a_hold_ends_on_its_day(archivist, expired):
    record = expired()
    hold = services.place_hold(
        actor=archivist,
        record=record,
        kind="audit",
        reason="audit",
        until=datetime.date.today(),
    )
    assert not selectors.due_records(archivist).exists()
    type(hold).objects.filter(pk=hold.pk).update(
        until=datetime.date.today() - datetime.timedelta(1)
    )
    assert list(selectors.due_records(archivist)) == [record]


def test_the_most_cautious_decision_stands(archivist, member, make_user, expired):
    third = make_user()
    destroyed, extended, kept = expired(), expired(), expired()
    batch = _retention_batch(archivist, [member, third], [destroyed, extended, kept])
    items = {item.record_id: item for item in batch.items.all()}
    for who in (member, third):
        services.decide(actor=who, item=items[destroyed.pk], choice="destroy", reason="r")
    services.decide(actor=member, item=items[extended.pk], choice="destroy", reason="r")
    services.decide(
        actor=third, item=items[extended.pk], choice="extend", new_retention="D10", reason="claims"
    )
    services.decide(
        actor=member, item=items[kept.pk], choice="extend", new_retention="D30", reason="r"
    )
    services.decide(actor=third, item=items[kept.pk], choice="permanent", reason="history")

    services.close_batch(actor=archivist, batch=batch)

    outcomes = {i.record_id: (i.outcome, i.new_retention) for i in batch.items.all()}
    assert outcomes == {
        destroyed.pk: ("destroy", ""),
        extended.pk: ("extend", "D10"),
        kept.pk: ("permanent", ""),
    }
    # Kept longer or for good: no longer due.
    assert list(selectors.due_records(archivist)) == [destroyed]


def test_only_the_committee_decides_and_gives_reasons(archivist, member, make_user, expired):
    batch = _retention_batch(archivist, [member], [expired()])
    item = batch.items.get()
    with pytest.raises(PermissionDenied):
        services.decide(actor=make_user(), item=item, choice="destroy", reason="r")
    with pytest.raises(ValidationError):
        services.decide(actor=member, item=item, choice="destroy", reason=" ")
    with pytest.raises(ValidationError):
        services.decide(actor=member, item=item, choice="open", reason="r")
    with pytest.raises(ValidationError):
        services.decide(actor=member, item=item, choice="extend", reason="r")


def test_open_access_appraisal_sets_openness_through_the_catalogue(archivist, member, make_record):
    old = make_record(year=1990, date=datetime.date(1990, 3, 1), openness="unreviewed")
    delayed = make_record(year=1995, date=datetime.date(1995, 3, 1), openness="delayed")
    make_record(year=2010, date=datetime.date(2010, 3, 1), openness="unreviewed")  # closed

    due = selectors.due_for_opening(archivist, today=datetime.date(2026, 11, 25))
    assert set(due) == {old, delayed}
    batch = services.open_batch(
        actor=archivist,
        kind="opening",
        title="开放鉴定 2026",
        records=[old, delayed],
        members=[member],
    )
    items = {i.record_id: i for i in batch.items.all()}
    services.decide(actor=member, item=items[old.pk], choice="open", reason="no personal data")
    services.decide(actor=member, item=items[delayed.pk], choice="delayed", reason="living persons")
    services.close_batch(actor=archivist, batch=batch)

    old.refresh_from_db()
    delayed.refresh_from_db()
    assert (old.openness, delayed.openness) == ("open", "delayed")
    from dangan.audit.models import AuditEvent

    change = AuditEvent.objects.filter(
        object_type="catalogue.record", object_id=str(old.pk), action="update"
    ).last()
    assert change.after == {"openness": "open"}


def test_proposer_and_approver_are_two_people_and_a_leader(
    archivist, member, leader, make_user, expired
):
    batch = _retention_batch(archivist, [member], [expired()])
    _decide_all(batch, [member], Choice.DESTROY)
    services.close_batch(actor=archivist, batch=batch)

    with pytest.raises(ValidationError):
        services.propose_destruction(actor=archivist, batch=batch, approver=member)
    listing = services.propose_destruction(actor=archivist, batch=batch, approver=leader)
    other_leader = make_user(role=Role.LEADER)
    for who in (archivist, member, other_leader):
        with pytest.raises(PermissionDenied):
            services.approve_destruction(actor=who, listing=listing)
    assert DestructionList.objects.get().state == DestructionList.State.PROPOSED
    assert not Record.objects.filter(state=Record.State.DESTROYED).exists()


def test_members_must_see_every_record(archivist, make_user, expired):
    from dangan.catalogue.models import Category

    outsider = make_user(grants=[{"category": Category.objects.get(code="TX")}])
    with pytest.raises(ValidationError) as refused:
        _retention_batch(archivist, [outsider], [expired()])
    assert refused.value.code == "member_scope"


def test_due_command_counts_by_category_and_year(expired, archivist):
    import io
    import json

    from django.core.management import call_command

    held = expired()
    expired()
    services.place_hold(actor=archivist, record=held, kind="audit", reason="audit")
    out = io.StringIO()
    call_command("appraisal", "due", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {
        "due": [{"category__code": "SYTG", "year": 2001, "count": 1}],
        "total": 1,
    }
