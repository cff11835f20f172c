"""Reading appraisal: what is due, what is held, which batches and lists a user may see.

Everything starts from ``catalogue.selectors.visible_records``: a due list, a batch or a
destruction list shows only records the reader may see, and a batch or list holding one record
outside the reader's grants is not shown to them at all.
"""

import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from dangan.accounts.models import ApprovalFlow
from dangan.accounts.services import approval_steps
from dangan.catalogue.models import Record, Retention
from dangan.catalogue.selectors import visible_records
from dangan.security.permissions import has_permission

from .models import Batch, BatchItem, Choice, DestructionList, Hold, Tombstone, Transfer


def may_appraise(user) -> bool:
    """Who uses the appraisal pages: archivists appraise and propose, leaders decide."""
    return has_permission(user, "appraisal.use")


#: 封闭期: records are opened to the public after this many years (Archives Law 2020, art. 27).
CLOSED_PERIOD_YEARS = 25


def active_holds() -> QuerySet[Hold]:
    """Holds in force today: not released, and not past their ``until`` day."""
    today = timezone.localdate()
    return Hold.objects.filter(released_at__isnull=True).filter(
        Q(until__isnull=True) | Q(until__gte=today)
    )


def expired_by(today: datetime.date) -> Q:
    """Records whose retention ended on or before ``today``, as one indexed filter.

    Retention ends on 1 January of ``year + 1 + period``; so a record is expired when
    ``year <= today.year - 1 - period``.
    """
    q = Q(pk__in=[])
    for code in Retention:
        if code != Retention.PERMANENT:
            q |= Q(retention=code, year__lte=today.year - 1 - int(code[1:]))
    return q


def kept_on(today: datetime.date) -> QuerySet[BatchItem]:
    """Items whose committee kept their record for good, or longer than ``today``."""
    return BatchItem.objects.filter(
        Q(outcome=Choice.PERMANENT) | Q(outcome=Choice.EXTEND, kept_until__gt=today)
    )


def due_records(user, *, category=None, year=None, today=None) -> QuerySet[Record]:
    """待鉴定: filed records ``user`` may see whose retention has ended, that no hold stops and
    that no committee has kept longer; by category and year when given."""
    today = today or timezone.localdate()
    records = (
        visible_records(user)
        .filter(state=Record.State.FILED)
        .filter(expired_by(today))
        .exclude(pk__in=active_holds().values("record_id"))
        .exclude(pk__in=kept_on(today).values("record_id"))
    )
    if category:
        records = records.filter(category_id=category)
    if year:
        records = records.filter(year=year)
    return records.select_related("category", "fonds").order_by("category", "year", "archival_code")


def due_summary(user, *, today=None) -> list[dict]:
    """How many records are due, by category and year, for the overview."""
    return list(
        due_records(user, today=today)
        .order_by()
        .values("category_id", "category__name", "year")
        .annotate(count=Count("id"))
        .order_by("category__name", "year")
    )


def due_for_opening(user, *, category=None, year=None, today=None) -> QuerySet[Record]:
    """开放鉴定: filed records past the closed period (25 years from the record's year) that
    were never reviewed for opening, or whose opening was delayed."""
    today = today or timezone.localdate()
    records = visible_records(user).filter(
        state=Record.State.FILED,
        year__lte=today.year - CLOSED_PERIOD_YEARS,
        openness__in=["unreviewed", "delayed"],
    )
    if category:
        records = records.filter(category_id=category)
    if year:
        records = records.filter(year=year)
    return records.select_related("category", "fonds").order_by("category", "year", "archival_code")


def is_held(record) -> bool:
    return active_holds().filter(record=record).exists()


def holds(user) -> QuerySet[Hold]:
    """Holds on records ``user`` may see, active first."""
    return (
        Hold.objects.filter(record__in=visible_records(user))
        .select_related("record", "placed_by", "released_by")
        .order_by("released_at", "-placed_at")
    )


def batches(user) -> QuerySet[Batch]:
    """The batches ``user`` opened or sits on the committee of, whose records they may all see."""
    if not getattr(user, "may_read_records", False):
        return Batch.objects.none()
    hidden = BatchItem.objects.filter(batch=OuterRef("pk")).exclude(
        record__in=visible_records(user)
    )
    stepwise = Q(pk__in=[])
    if user.role in (approval_steps(ApprovalFlow.Kind.OPENING) or []):
        stepwise = Q(state=Batch.State.AWAITING)  # an approver of the opening reviews
    return (
        Batch.objects.filter(Q(opened_by=user) | Q(members=user) | stepwise)
        .exclude(Exists(hidden))
        .distinct()
        .select_related("opened_by")
        .annotate(item_count=Count("items", distinct=True))
    )


def batch_for(user, pk) -> Batch:
    return batches(user).get(pk=pk)


def batch_items(batch: Batch) -> QuerySet[BatchItem]:
    return batch.items.select_related("record", "record__category").prefetch_related(
        "decisions__member"
    )


def destruction_lists(user) -> QuerySet[DestructionList]:
    """Lists ``user`` proposed, must approve, or whose batch they sat on, records all visible."""
    if not getattr(user, "may_read_records", False):
        return DestructionList.objects.none()
    from .models import DestructionItem

    hidden = DestructionItem.objects.filter(destruction_list=OuterRef("pk")).exclude(
        record__in=visible_records(user)
    )
    stepwise = Q(pk__in=[])
    if user.role in (approval_steps(ApprovalFlow.Kind.DESTRUCTION) or []):
        stepwise = Q(approver__isnull=True)  # an approver of destruction lists, in steps
    return (
        DestructionList.objects.filter(
            Q(proposed_by=user) | Q(approver=user) | Q(batch__members=user) | stepwise
        )
        .exclude(Exists(hidden))
        .distinct()
        .select_related("batch", "proposed_by", "approver")
        .annotate(item_count=Count("items", distinct=True))
    )


def destruction_list_for(user, pk) -> DestructionList:
    return destruction_lists(user).get(pk=pk)


def tombstones(user) -> QuerySet[Tombstone]:
    return Tombstone.objects.filter(record__in=visible_records(user)).select_related(
        "destruction_list"
    )


def transfers(user) -> QuerySet[Transfer]:
    """The transfer register, for archivists (it names categories and years, not records)."""
    if not getattr(user, "may_edit_records", False):
        return Transfer.objects.none()
    return Transfer.objects.select_related("created_by", "report")
