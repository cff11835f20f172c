"""The numbers of the dashboard and the annual report, counted only over what the viewer may see.

Every count starts from ``catalogue.selectors.visible_records(user)``: a leader, an archivist and
a town clerk each see the archive their grants open, never more. Holdings are read with one
pass over the counts the database keeps beside the records (``stats.Holding``, a few thousand
rows for a million records); every table and chart is summed from its rows in Python. Pages
and their OCR are counted only for visible records, and so is use.

Use (利用) is what the access app registers: records consulted in the reading room, lent, or
delivered on request (``access.Use``), by channel and by purpose; overdue loans come from there too.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Sum,
)
from django.utils import timezone

from dangan.accounts.models import Unit
from dangan.accounts.selectors import record_scope
from dangan.catalogue.models import Category, Record
from dangan.catalogue.selectors import visible_records
from dangan.compilation.selectors import visits_between
from dangan.security.permissions import has_permission

from .models import Holding


def may_see_statistics(user) -> bool:
    """Anyone who reads records sees the numbers of what they read; the three administrators
    and citizens read none."""
    return has_permission(user, "statistics.view")


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
    """The visible holdings, from the counts the database keeps (``stats.Holding``).

    The grants' filter is the one ``visible_records`` applies (``record_scope``): the counts carry
    the records' columns under the same names, so the same filter selects the same records.
    """
    scope = record_scope(user)
    if scope is None:
        return Holdings()
    rows = (
        Holding.objects.filter(scope)
        .exclude(state=Record.State.DESTROYED)  # a tombstone is no longer held
        .order_by()
        .values_list("category_id", "year", "unit_id", "retention", "level")
        .annotate(total=Sum("n"))
    )
    return Holdings(rows=[tuple(r) for r in rows if r[5]])


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


def _month_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(day.year, day.month, 1))


def use_by_month(user, *, months: int = 12) -> list[dict]:
    """Uses of visible records per month over the last ``months`` months, by channel: the
    reading room, loans and delivered requests (``access.Use``)."""
    from dangan.access.selectors import uses_between

    starts = [timezone.localdate().replace(day=1)]
    for _ in range(months - 1):
        starts.insert(0, (starts[0] - datetime.timedelta(days=1)).replace(day=1))
    ends = (starts[-1] + datetime.timedelta(days=32)).replace(day=1)
    index = {(d.year, d.month): i for i, d in enumerate(starts)}
    rows = [{"reading": 0, "loan": 0, "request": 0, "records": set()} for _start in starts]
    for at, channel, _purpose, pk, _category in uses_between(
        user, since=_month_start(starts[0]), until=_month_start(ends)
    ):
        local = timezone.localtime(at)
        row = rows[index[(local.year, local.month)]]
        row[channel] += 1
        row["records"].add(pk)
    return [
        {
            "month": start.strftime("%Y-%m"),
            "reading": m["reading"],
            "loans": m["loan"],
            "requests": m["request"],
            "records": len(m["records"]),
        }
        for start, m in zip(starts, rows, strict=True)
    ]


def use_by_purpose(user, *, year: int) -> list[dict]:
    """Uses of visible records in ``year`` by purpose (利用目的), every purpose listed."""
    from dangan.access.models import Purpose
    from dangan.access.selectors import uses_between

    since = timezone.make_aware(datetime.datetime(year, 1, 1))
    until = timezone.make_aware(datetime.datetime(year + 1, 1, 1))
    counts = defaultdict(int)
    for _at, _channel, purpose, _pk, _category in uses_between(user, since=since, until=until):
        counts[purpose] += 1
    return [
        {"purpose": value, "name": str(label), "count": counts[value]}
        for value, label in Purpose.choices
    ]


def overdue_loans(user) -> list[dict]:
    from dangan.access.selectors import overdue_for_dashboard

    return overdue_for_dashboard(user)


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
        "use_by_purpose": use_by_purpose(user, year=timezone.localdate().year),
        "receipts": receipts_by_unit(user, year=timezone.localdate().year),
        "use_outcomes": use_by_purpose_and_outcome(user, year=timezone.localdate().year),
        "overdue_loans": overdue_loans(user),
        "alerts": open_alerts(),
        "exhibition_visits": exhibition_visits(year=timezone.localdate().year),
    }


def exhibition_visits(*, year: int) -> list[dict]:
    """Visits of the online exhibitions in ``year``, most visited first (read from the
    compilation app's daily counts; the stats app reads, the compilation app never calls here)."""
    return visits_between(datetime.date(year, 1, 1), datetime.date(year, 12, 31))


def use_by_category(user, *, year: int) -> dict[int, int]:
    """Uses of visible records in ``year`` (件次), summed by the record's category."""
    from dangan.access.selectors import uses_between

    since = timezone.make_aware(datetime.datetime(year, 1, 1))
    until = timezone.make_aware(datetime.datetime(year + 1, 1, 1))
    sums = defaultdict(int)
    for _at, _channel, _purpose, _pk, category_id in uses_between(user, since=since, until=until):
        sums[category_id] += 1
    return dict(sums)


def by_county(user) -> list[dict]:
    """全省统计: the visible holdings of each county (县) of a province, for a provincial office.

    Counted from the same grouped pass as the dashboard, so the rights are the dashboard's: a
    county's staff see their county's row alone, a provincial office with a province-wide grant
    sees every county. Records of units outside every county make a row of their own.
    """
    from dangan.accounts.selectors import county_of
    from dangan.catalogue.models import Retention
    from dangan.content.models import Page

    h = holdings(user)
    this_year = timezone.localdate().year
    counties = defaultdict(lambda: {"records": 0, "permanent": 0, "this_year": 0, "pages": 0})
    county_by_unit = {}
    for _category, year, unit_id, retention, _level, n in h.rows:
        if unit_id not in county_by_unit:
            county_by_unit[unit_id] = county_of(unit_id)
        row = counties[county_by_unit[unit_id]]
        row["records"] += n
        row["permanent"] += n if retention == Retention.PERMANENT else 0
        row["this_year"] += n if year == this_year else 0
    pages = (
        Page.objects.filter(role=Page.Role.ORIGINAL)
        .filter(Exists(visible_records(user).filter(pk=OuterRef("record_id"))))
        .order_by()
        .values_list("record__unit_id")
        .annotate(n=Count("id"))
    )
    for unit_id, n in pages:
        if unit_id not in county_by_unit:
            county_by_unit[unit_id] = county_of(unit_id)
        counties[county_by_unit[unit_id]]["pages"] += n
    names = dict(Unit.objects.filter(pk__in=[c for c in counties if c]).values_list("pk", "name"))
    rows = [
        {"id": pk, "name": names.get(pk, "—") if pk else "—", **figures}
        for pk, figures in counties.items()
    ]
    return sorted(rows, key=lambda r: (r["id"] is None, r["name"]))


# --- Receipts, transfers, destructions; use by purpose and outcome (the annual report) -------


def _year_bounds(year: int) -> tuple[datetime.datetime, datetime.datetime]:
    return (
        timezone.make_aware(datetime.datetime(year, 1, 1)),
        timezone.make_aware(datetime.datetime(year + 1, 1, 1)),
    )


def receipts_by_unit(user, *, year: int) -> list[dict]:
    """接收与处置 of ``year``, per unit, over the records ``user`` may see: hand-over lists
    answered with at least one item accepted, items accepted (归档接收), records filed by any
    way (``Record.filed_at``: a hand-over, a register import, a description), records
    destroyed (their tombstones). The unit is the hand-over's sender, else the record's."""
    from dangan.appraisal.models import Tombstone
    from dangan.intake.models import ItemDecision

    start, end = _year_bounds(year)
    visible = visible_records(user)
    rows = defaultdict(lambda: {"handovers": 0, "accepted": 0, "filed": 0, "destroyed": 0})
    accepted = (
        ItemDecision.objects.filter(
            verdict=ItemDecision.Verdict.ACCEPTED,
            decided_at__gte=start,
            decided_at__lt=end,
        )
        .filter(Exists(visible.filter(pk=OuterRef("item__record_id"))))
        .order_by()
        .values_list("item__handover__unit_id")
        .annotate(lists=Count("item__handover_id", distinct=True), items=Count("id"))
    )
    for unit_id, lists, items in accepted:
        rows[unit_id]["handovers"] += lists
        rows[unit_id]["accepted"] += items
    filed = (
        visible.filter(filed_at__gte=start, filed_at__lt=end)
        .order_by()
        .values_list("unit_id")
        .annotate(n=Count("id"))
    )
    for unit_id, n in filed:
        rows[unit_id]["filed"] += n
    destroyed = (
        Tombstone.objects.filter(destroyed_at__gte=start, destroyed_at__lt=end)
        .filter(Exists(visible.filter(pk=OuterRef("record_id"))))
        .order_by()
        .values_list("record__unit_id")
        .annotate(n=Count("id"))
    )
    for unit_id, n in destroyed:
        rows[unit_id]["destroyed"] += n
    names = dict(Unit.objects.filter(pk__in=[u for u in rows if u]).values_list("pk", "name"))
    table = [{"id": pk, "unit": names.get(pk, "—"), **figures} for pk, figures in rows.items()]
    return sorted(table, key=lambda r: (r["id"] is None, r["unit"]))


def transfers_in(user, *, year: int) -> dict:
    """移交进馆 of ``year``: transfer packages written for the archives and received from
    another archive, and their items, for the categories ``user``'s grants reach."""
    from dangan.appraisal.models import Transfer
    from dangan.catalogue.selectors import granted_categories

    start, end = _year_bounds(year)
    codes = granted_categories(user).values("code")
    figures = {"exported": 0, "exported_items": 0, "imported": 0, "imported_items": 0}
    for direction, packages, items in (
        Transfer.objects.filter(created_at__gte=start, created_at__lt=end, category__in=codes)
        .order_by()
        .values_list("direction")
        .annotate(packages=Count("id"), items=Sum("items"))
    ):
        key = "exported" if direction == Transfer.Direction.EXPORT else "imported"
        figures[key] += packages
        figures[f"{key}_items"] += items or 0
    return figures


def use_by_purpose_and_outcome(user, *, year: int) -> list[dict]:
    """Uses of visible records in ``year`` by purpose (利用目的) and outcome (利用效果), every
    purpose and outcome listed; ``unknown`` counts the uses whose outcome was not recorded."""
    from dangan.access.models import Outcome, Purpose
    from dangan.access.selectors import use_outcomes_between

    start, end = _year_bounds(year)
    counts = {
        (purpose, outcome or "unknown"): n
        for purpose, outcome, n in use_outcomes_between(user, since=start, until=end)
    }
    rows = []
    for value, label in Purpose.choices:
        row = {"purpose": value, "name": str(label)}
        for outcome in [*Outcome.values, "unknown"]:
            row[outcome] = counts.get((value, outcome), 0)
        row["total"] = sum(row[o] for o in [*Outcome.values, "unknown"])
        rows.append(row)
    return rows
