"""Reading the stacks. Rooms, shelves and boxes are not records: any archivist sees them. The
records inside a box are listed only as far as ``catalogue.selectors.visible_records`` allows."""

import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from dangan.catalogue.selectors import visible_records
from dangan.security.permissions import has_permission

from .models import Alert, Box, Inventory, Reading, Room


def may_keep_stacks(user) -> bool:
    return has_permission(user, "stacks.keep")


def rooms() -> QuerySet[Room]:
    return Room.objects.annotate(
        shelf_count=Count("shelves", distinct=True),
        box_count=Count("shelves__boxes", distinct=True),
        open_alerts=Count("alerts", filter=Q(alerts__closed_at__isnull=True), distinct=True),
    ).order_by("code")


def room_boxes(room: Room) -> QuerySet[Box]:
    return (
        Box.objects.filter(shelf__room=room)
        .select_related("shelf__room", "category", "fonds")
        .annotate(record_count=Count("placements"))
        .order_by("shelf__column", "shelf__section", "shelf__layer", "code")
    )


def unshelved_boxes() -> QuerySet[Box]:
    return Box.objects.filter(shelf__isnull=True).select_related("category", "fonds")


def box_records(user, box: Box):
    """The records in ``box`` that ``user`` may see, in archival-code order; and how many are
    in the box altogether (a label counts them all)."""
    records = visible_records(user).filter(placement__box=box).order_by("archival_code", "id")
    return records, box.placements.count()


def box_for_label(box: Box) -> dict:
    """What the labels print: the range of item numbers and the count (not titles: a label is
    on the shelf for anyone to read)."""
    from dangan.catalogue.models import Record

    placed = Record.objects.filter(placement__box=box)
    codes = sorted(c for c in placed.values_list("archival_code", flat=True) if c)
    pages = sum(p or 0 for p in placed.values_list("page_count", flat=True))
    return {
        "count": placed.count(),
        "first": codes[0] if codes else "",
        "last": codes[-1] if codes else "",
        "pages": pages,
    }


def discrepancies(inventory: Inventory) -> dict:
    """差异: boxes expected but not scanned (missing), scanned boxes whose place is another
    room (misplaced), codes that are no box at all (unknown), and those found."""
    scans = list(inventory.scans.select_related("box__shelf__room").order_by("at"))
    expected = set(inventory.expected)
    scanned = {s.code for s in scans}
    return {
        "found": sorted(expected & scanned),
        "missing": sorted(expected - scanned),
        "misplaced": [
            {
                "code": s.code,
                "location": s.box.shelf.code if s.box and s.box.shelf else "",
            }
            for s in scans
            if s.box is not None and s.code not in expected
        ],
        "unknown": [s.code for s in scans if s.box is None],
    }


def open_inventory(room: Room) -> Inventory | None:
    return room.inventories.filter(closed_at__isnull=True).first()


def open_alerts() -> QuerySet[Alert]:
    return Alert.objects.filter(closed_at__isnull=True).select_related("room")


def readings_series(room: Room, *, days: int = 30) -> dict:
    """Readings of the last ``days`` days for the room's chart, with its limits."""
    since = timezone.now() - datetime.timedelta(days=days)
    rows = Reading.objects.filter(room=room, at__gte=since).order_by("at")
    return {
        "points": [
            [
                timezone.localtime(r.at).strftime("%Y-%m-%d %H:%M"),
                float(r.temperature) if r.temperature is not None else None,
                float(r.humidity) if r.humidity is not None else None,
            ]
            for r in rows
        ],
        "limits": {
            "temperature": [float(room.temperature_min), float(room.temperature_max)],
            "humidity": [float(room.humidity_min), float(room.humidity_max)],
        },
    }
