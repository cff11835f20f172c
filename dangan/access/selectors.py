"""Reading the use of records, always through the records the reader may see.

A visit, a loan or a request of a record outside the reader's grants is not shown: lists filter
by ``visible_records``, and a single object that is not visible raises ``DoesNotExist`` (the
views answer 404).
"""

import datetime

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from dangan.accounts.models import Role
from dangan.catalogue.models import Record
from dangan.catalogue.selectors import visible_records
from dangan.core.hooks import Hook
from dangan.security.permissions import has_permission

from .models import AccessRequest, Certificate, Loan, Use, Visit

#: ``(citizen) -> Q`` over records: the records concerning the person the citizen's account is
#: bound to and the open catalogue (provided by dangan.portal, which keeps the binding).
citizen_scope = Hook("the records a citizen may ask a copy of")
#: ``(citizen) -> str | None``: the verified ID number the citizen's account is bound to (also
#: provided by dangan.portal): a copy delivered to them shows their own name unmasked.
citizen_id_number = Hook("the ID number a citizen's account is bound to")


def is_desk_reader(user) -> bool:
    """Sees the reading room's register and the desk's lists."""
    return has_permission(user, "access.desk")


def requestable_records(user) -> QuerySet[Record]:
    """The records ``user`` may ask a copy of.

    Staff and units: what their grants let them see. Citizens: the records concerning the
    person their account is bound to (``portal.selectors.citizen_records``) and the open
    catalogue anyone may search (``portal.selectors.open_records``: 开放 and 公开).
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return Record.objects.none()
    if user.role == Role.CITIZEN:
        return Record.objects.filter(citizen_scope(user)).exclude(state=Record.State.DESTROYED)
    return visible_records(user).exclude(state=Record.State.DESTROYED)


# --- Requests ------------------------------------------------------------------------------------
def requests_of(user) -> QuerySet[AccessRequest]:
    """The user's own requests, newest first (the portal's "my requests")."""
    if not user.is_authenticated:
        return AccessRequest.objects.none()
    return AccessRequest.objects.filter(requester=user).select_related(
        "record__category", "certificate"
    )


def staff_requests(user, *, state: str | None = None) -> QuerySet[AccessRequest]:
    """Requests for records the staff member may see (approvers decide among these)."""
    if not is_desk_reader(user):
        return AccessRequest.objects.none()
    rows = AccessRequest.objects.filter(record__in=visible_records(user)).select_related(
        "record", "requester", "decided_by", "certificate"
    )
    return rows.filter(state=state) if state else rows


def staff_request(user, pk) -> AccessRequest:
    return staff_requests(user).get(pk=pk)


# --- Reading room --------------------------------------------------------------------------------
def visits_between(user, start: datetime.date, end: datetime.date) -> list[Visit]:
    """Visits from ``start`` to ``end`` (inclusive), each with the records consulted that
    ``user`` may see (the others are left out, as if not there)."""
    if not is_desk_reader(user):
        return []
    since = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    until = timezone.make_aware(datetime.datetime.combine(end, datetime.time.max))
    uses = Use.objects.filter(record__in=visible_records(user)).select_related("record")
    return list(
        Visit.objects.filter(at__range=(since, until))
        .select_related("clerk")
        .prefetch_related(Prefetch("uses", queryset=uses, to_attr="visible_uses"))
        .order_by("at", "id")
    )


def recent_visits(user, limit: int = 30) -> list[Visit]:
    if not is_desk_reader(user):
        return []
    today = timezone.localdate()
    return visits_between(user, today - datetime.timedelta(days=30), today)[-limit:][::-1]


def visit_for_desk(user, pk) -> Visit:
    if not is_desk_reader(user):
        raise Visit.DoesNotExist
    return Visit.objects.get(pk=pk)


def use_for_desk(user, pk) -> Use:
    """One use of a record the desk reader may see (``Use.DoesNotExist`` otherwise)."""
    if not is_desk_reader(user):
        raise Use.DoesNotExist
    return Use.objects.filter(_of_visible_record(user)).get(pk=pk)


# --- Loans ---------------------------------------------------------------------------------------
def open_loans(user) -> QuerySet[Loan]:
    rows = Loan.objects.filter(returned_at__isnull=True).select_related("record", "lent_by")
    if user is None:
        return rows
    if not is_desk_reader(user):
        return Loan.objects.none()
    return rows.filter(record__in=visible_records(user))


def overdue_loans(user, *, today: datetime.date | None = None) -> QuerySet[Loan]:
    """Loans past their due date; ``user`` None: all of them (the reminder command)."""
    today = today or timezone.localdate()
    return open_loans(user).filter(due_on__lt=today).order_by("due_on", "id")


def loan_for_desk(user, pk) -> Loan:
    return open_loans(user).get(pk=pk)


# --- Certificates --------------------------------------------------------------------------------
#: What the public page of a certificate reads: nothing of the record beyond the kept summary.
PUBLIC_FIELDS = (
    "number",
    "code",
    "issuer_name",
    "issued_at",
    "summary",
    "sha256",
    "signature",
    "algorithm",
    "key_fingerprint",
    "revoked_at",
    "revocation_reason",
)


def certificate_by_code(code: str) -> Certificate:
    return Certificate.objects.only(*PUBLIC_FIELDS).get(code=code)


def certificate_for_desk(user, pk) -> Certificate:
    return certificates_for_desk(user).select_related("blob", "revoked_by").get(pk=pk)


def certificates_for_desk(user) -> QuerySet[Certificate]:
    """The certificates of records ``user`` may see, newest first (the desk's list)."""
    if not is_desk_reader(user):
        return Certificate.objects.none()
    return Certificate.objects.filter(_of_visible_record(user)).select_related("record")


def certificate_by_digest(sha256: str) -> Certificate:
    return Certificate.objects.only(*PUBLIC_FIELDS).get(sha256=sha256)


# --- Statistics ----------------------------------------------------------------------------------
def _of_visible_record(user) -> Exists:
    """That a row's record is one ``user`` may see, probed by the record's key row by row.

    Not ``record__in=visible_records(user)``: SQLite would first list every visible record (a
    million for a leader) to test a handful of uses or loans against them."""
    return Exists(visible_records(user).filter(pk=OuterRef("record_id")))


def uses_between(user, *, since: datetime.datetime, until: datetime.datetime) -> QuerySet:
    """``(at, channel, purpose, record id, category id)`` of every use of a record ``user`` may
    see, from ``since`` up to ``until``: what the dashboard and the annual report count."""
    return (
        Use.objects.filter(at__gte=since, at__lt=until)
        .filter(_of_visible_record(user))
        .order_by()
        .values_list("at", "channel", "purpose", "record_id", "record__category_id")
    )


def use_outcomes_between(user, *, since, until) -> list[tuple[str, str, int]]:
    """``(purpose, outcome, uses)`` of the uses of records ``user`` may see, from ``since`` up
    to ``until`` (outcome "" when not recorded): the annual report's use by purpose and outcome."""
    return list(
        Use.objects.filter(at__gte=since, at__lt=until)
        .filter(_of_visible_record(user))
        .order_by()
        .values_list("purpose", "outcome")
        .annotate(n=Count("id"))
    )


def overdue_for_dashboard(user, limit: int = 100) -> list[dict]:
    """The overdue loans of visible records, as plain data for the dashboard and its export."""
    today = timezone.localdate()
    return [
        {
            "record": loan.record.archival_code or loan.record.legacy_number or str(loan.record_id),
            "borrower": loan.borrower_name,
            "unit": loan.borrower_unit,
            "due_on": loan.due_on.isoformat(),
            "days": loan.days_overdue(today),
        }
        for loan in overdue_loans_of_readers(user, today=today)[:limit]
    ]


def overdue_loans_of_readers(user, *, today):
    """Overdue loans for anyone who reads records (the dashboard is not only the desk's)."""
    if user is None or not getattr(user, "may_read_records", False):
        return Loan.objects.none()
    return (
        Loan.objects.filter(returned_at__isnull=True, due_on__lt=today)
        .filter(_of_visible_record(user))
        .select_related("record")
        .order_by("due_on", "id")
    )


def record_pages_to_choose(user, pk) -> tuple[Record, list]:
    """A record the user may see (its reading audited, ``Record.DoesNotExist`` otherwise) and
    its original pages in order, for choosing pages to output."""
    from dangan.catalogue.selectors import read_record
    from dangan.content.models import Page

    record = read_record(user, pk)
    pages = list(
        Page.objects.filter(record=record, role=Page.Role.ORIGINAL)
        .select_related("processing")
        .order_by("position")
    )
    return record, pages
