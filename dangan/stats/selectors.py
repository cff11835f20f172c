"""The numbers of the dashboard and the annual report, counted only over what the viewer may see.

Every count starts from ``catalogue.selectors.visible_records(user)``: a leader, an archivist and
a town clerk each see the archive their grants open, never more. Holdings are read with one
``GROUP BY`` over the visible records (category, year, unit, retention, level), the one pass
over a large catalogue; every table and chart is summed from its rows in Python (the
``record_stats`` index of the catalogue holds every column it reads). Pages and their OCR are
counted only for visible records, and so is use.

Use: there is no loans desk yet, so "use" is what the audit trail knows, the readings (read)
and downloads of records per month. Purposes of use and overdue loans come with the access app.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.utils import timezone

from dangan.accounts.models import Unit
from dangan.audit.models import AuditEvent
from dangan.catalogue.models import Category
from dangan.catalogue.selectors import visible_records

USE_ACTIONS = (AuditEvent.Action.READ, AuditEvent.Action.DOWNLOAD)
RECORD_TYPE = "catalogue.record"
_CHUNK = 5000


@dataclass
class Holdings:
    """The visible holdings, grouped: each row is (category_id, year, unit_id, retention,
    level, records)."""

    rows: list[tuple] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(r[5] for r in self.rows)

    def by(self, *positions: int) -> dict:
        """Records summed by the row positions given (0 category, 1 year, 2 unit, …)."""
        sums = defaultdict(int)
        for row in self.rows:
            key = row[positions[0]] if len(positions) == 1 else tuple(row[p] for p in positions)
            sums[key] += row[5]
        return dict(sums)


def holdings(user) -> Holdings:
    """The one grouped pass over the records ``user`` may see.

    Grouped in the order of the ``record_stats`` index, which holds every column the pass and
    any grant reads: the database streams through the index without touching the table.
    """
    rows = (
        visible_records(user)
        .order_by()
        .values_list("category_id", "year", "unit_id", "retention", "level")
        .annotate(n=Count("*"))
    )
    return Holdings(rows=[tuple(r) for r in rows])


def entered_in(user, *, year: int) -> dict[int, int]:
    """Visible records entered into the catalogue in ``year``, by category."""
    start = timezone.make_aware(datetime.datetime(year, 1, 1))
    end = timezone.make_aware(datetime.datetime(year + 1, 1, 1))
    return dict(
        visible_records(user)
        .filter(created_at__gte=start, created_at__lt=end)
        .order_by()
        .values_list("category_id")
        .annotate(n=Count("id"))
        .values_list("category_id", "n")
    )


def _categories(ids) -> list[Category]:
    return list(Category.objects.filter(pk__in=ids).order_by("position", "code"))


def by_category(h: Holdings) -> list[dict]:
    counts = h.by(0)
    return [
        {"id": c.pk, "code": c.code, "name": c.name, "count": counts[c.pk]}
        for c in _categories(counts)
    ]


def by_year(h: Holdings) -> list[dict]:
    """Records by their year, split by category (for a stacked chart that drills to both)."""
    counts = h.by(1, 0)
    years = sorted({year for year, _c in counts})
    categories = _categories({c for _y, c in counts})
    return [
        {
            "year": year,
            "count": sum(counts.get((year, c.pk), 0) for c in categories),
            "categories": {c.code: counts.get((year, c.pk), 0) for c in categories},
        }
        for year in years
    ]


def by_unit(h: Holdings) -> list[dict]:
    counts = h.by(2)
    units = {u.pk: u for u in Unit.objects.filter(pk__in=[k for k in counts if k])}
    rows = [
        {"id": pk, "name": units[pk].name if pk in units else "—", "count": n}
        for pk, n in counts.items()
    ]
    return sorted(rows, key=lambda r: -r["count"])


def growth(h: Holdings) -> list[dict]:
    """How the holdings grew, year by year of the records: the records of each year and the
    holdings up to it. (Dangan does not know when paper was accessioned: the day a record was
    entered is the day its register was imported, often decades later.)"""
    added = h.by(1)
    total, rows = 0, []
    for year in sorted(added):
        total += added[year]
        rows.append({"year": year, "added": added[year], "total": total})
    return rows


def digitization(user, h: Holdings) -> list[dict]:
    """Per category: records, records with scanned pages, pages scanned and pages read by OCR.

    Driven from the pages (fewer than records), each checked against the visible records by
    its record's key.
    """
    from dangan.content.models import Page
    from dangan.digitize.models import PageProcessing

    pages = Page.objects.filter(role=Page.Role.ORIGINAL).filter(
        Exists(visible_records(user).filter(pk=OuterRef("record_id")))
    )
    scanned = {
        category: (records, n)
        for category, records, n in pages.order_by()
        .values_list("record__category_id")
        .annotate(records=Count("record_id", distinct=True), n=Count("id"))
    }
    done = dict(
        PageProcessing.objects.filter(state=PageProcessing.State.DONE, page__in=pages.values("pk"))
        .order_by()
        .values_list("page__record__category_id")
        .annotate(n=Count("id"))
        .values_list("page__record__category_id", "n")
    )
    return [
        {
            **row,
            "records_scanned": scanned.get(row["id"], (0, 0))[0],
            "pages": scanned.get(row["id"], (0, 0))[1],
            "pages_ocr": done.get(row["id"], 0),
        }
        for row in by_category(h)
    ]


def use_events(user, *, bounds: list[datetime.datetime]) -> list[tuple]:
    """(period, action, record id, events) of the readings and downloads of visible records,
    where period ``i`` runs from ``bounds[i]`` to ``bounds[i + 1]``. Periods are told apart in
    the query (a CASE over the trail's time index), so no date is converted row by row."""
    period = Case(
        *[When(at__lt=end, then=Value(i)) for i, end in enumerate(bounds[1:])],
        output_field=IntegerField(),
    )
    events = AuditEvent.objects.filter(
        action__in=USE_ACTIONS, object_type=RECORD_TYPE, at__gte=bounds[0], at__lt=bounds[-1]
    ).order_by()
    # The records read that the user may see, found by their keys in one query (the database
    # probes the records by primary key; no list of ids travels through Python).
    visible = set(
        visible_records(user)
        .filter(pk__in=events.values_list(Cast("object_id", BigIntegerField())))
        .values_list("pk", flat=True)
    )
    return [
        (i, action, int(pk), n)
        for i, action, pk, n in events.annotate(period=period)
        .values_list("period", "action", "object_id")
        .annotate(n=Count("id"))
        if pk.isdigit() and int(pk) in visible
    ]


def _month_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(day.year, day.month, 1))


def use_by_month(user, *, months: int = 12) -> list[dict]:
    """Readings and downloads of visible records, per month over the last ``months`` months."""
    starts = [timezone.localdate().replace(day=1)]
    for _ in range(months - 1):
        starts.insert(0, (starts[0] - datetime.timedelta(days=1)).replace(day=1))
    ends = (starts[-1] + datetime.timedelta(days=32)).replace(day=1)
    rows = [{"read": 0, "download": 0, "records": set()} for _start in starts]
    for i, action, pk, n in use_events(user, bounds=[_month_start(d) for d in [*starts, ends]]):
        rows[i][action] += n
        rows[i]["records"].add(pk)
    return [
        {
            "month": start.strftime("%Y-%m"),
            "reads": m["read"],
            "downloads": m["download"],
            "records": len(m["records"]),
        }
        for start, m in zip(starts, rows, strict=True)
    ]


def open_alerts() -> list[dict]:
    """Open climate alerts per room (rooms are not records: every viewer of the dashboard sees
    whether the stacks are in order)."""
    from dangan.stacks.selectors import open_alerts as stacks_open_alerts

    return [
        {
            "room": a.room.code,
            "room_name": a.room.name,
            "kind": a.get_kind_display(),
            "started": timezone.localtime(a.started_at).strftime("%Y-%m-%d %H:%M"),
            "worst": float(a.worst),
            "readings": a.readings,
        }
        for a in stacks_open_alerts().order_by("-started_at")[:100]
    ]


def dashboard(user) -> dict:
    """Everything the dashboard shows, as plain data (also the JSON its charts draw from)."""
    h = holdings(user)
    return {
        "total": h.total,
        "by_category": by_category(h),
        "by_year": by_year(h),
        "by_unit": by_unit(h),
        "growth": growth(h),
        "digitization": digitization(user, h),
        "use": use_by_month(user),
        "alerts": open_alerts(),
    }


def use_by_category(user, *, year: int) -> dict[int, int]:
    """Readings and downloads of visible records in ``year``, summed by the record's category."""
    since = timezone.make_aware(datetime.datetime(year, 1, 1))
    until = timezone.make_aware(datetime.datetime(year + 1, 1, 1))
    per_record = defaultdict(int)
    for _period, _action, pk, n in use_events(user, bounds=[since, until]):
        per_record[pk] += n
    ids, sums = sorted(per_record), defaultdict(int)
    for start in range(0, len(ids), _CHUNK):
        for pk, category_id in (
            visible_records(user)
            .filter(pk__in=ids[start : start + _CHUNK])
            .values_list("pk", "category_id")
        ):
            sums[category_id] += per_record[pk]
    return dict(sums)
