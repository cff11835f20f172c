"""Changes to the stacks: rooms and shelves, boxes and what goes in them, inventories, the eight
protections (inspections, climate readings and their alerts). Each writes the audit trail in
its own transaction. Only archivists change the stacks; records go into boxes only where the
archivist may write them (``accounts.selectors.may_write_record``).
"""

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from dangan.accounts.selectors import may_write_record
from dangan.audit.models import AuditEvent
from dangan.audit.services import Event, record_event, record_events
from dangan.catalogue.selectors import visible_records
from dangan.security.permissions import has_permission

from .models import (
    Alert,
    Box,
    BoxMove,
    Inspection,
    Inventory,
    InventoryScan,
    Placement,
    Reading,
    Room,
    Shelf,
)

Action = AuditEvent.Action


def _require_keeper(actor):
    """Those who keep the stacks (archivists by default)."""
    if not has_permission(actor, "stacks.keep"):
        raise PermissionDenied(_("Only archivists may change the stacks."))


# --- Rooms, shelves, boxes -----------------------------------------------------------------


def create_room(*, actor, code: str, name: str, columns=0, sections=0, layers=0, **limits) -> Room:
    """A room with ``columns × sections × layers`` shelf places."""
    _require_keeper(actor)
    with transaction.atomic():
        room = Room(code=code.strip().upper(), name=name, **limits)
        room.full_clean()
        room.save()
        add_shelves(actor=actor, room=room, columns=columns, sections=sections, layers=layers)
        record_event(actor=actor, action=Action.CREATE, obj=room)
    return room


def add_shelves(*, actor, room: Room, columns: int, sections: int, layers: int) -> int:
    """Add the shelf places of a block of shelving (existing places are kept); how many new."""
    _require_keeper(actor)
    wanted = [
        Shelf(room=room, column=c, section=s, layer=layer)
        for c in range(1, columns + 1)
        for s in range(1, sections + 1)
        for layer in range(1, layers + 1)
    ]
    with transaction.atomic():
        existing = set(room.shelves.values_list("column", "section", "layer"))
        new = [s for s in wanted if (s.column, s.section, s.layer) not in existing]
        Shelf.objects.bulk_create(new)
    return len(new)


def find_shelf(code: str) -> Shelf | None:
    """The shelf place of a location code such as ``K1-03-02-05``."""
    parts = code.strip().upper().split("-")
    if len(parts) < 4:
        return None
    try:
        column, section, layer = (int(p) for p in parts[-3:])
    except ValueError:
        return None
    return (
        Shelf.objects.select_related("room")
        .filter(room__code="-".join(parts[:-3]), column=column, section=section, layer=layer)
        .first()
    )


def next_box_code(*, fonds, category=None, year=None, retention="") -> str:
    """The next free box code of its class: ``A001-SYTG-2001-D100-003``."""
    parts = [fonds.code, category.code if category else "", str(year or ""), retention]
    prefix = "-".join(p for p in parts if p) + "-"
    taken = Box.objects.filter(code__startswith=prefix).values_list("code", flat=True)
    numbers = [int(c[len(prefix) :]) for c in taken if c[len(prefix) :].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


def create_box(*, actor, fonds, category=None, year=None, retention="", code="", **fields) -> Box:
    """A new box, numbered in its class unless ``code`` is given; ``shelf`` puts it in place."""
    _require_keeper(actor)
    shelf = fields.pop("shelf", None)
    with transaction.atomic():
        box = Box(
            code=(code.strip().upper() if code else "")
            or next_box_code(fonds=fonds, category=category, year=year, retention=retention),
            fonds=fonds,
            category=category,
            year=year,
            retention=retention,
            **fields,
        )
        box.full_clean()
        box.save()
        record_event(actor=actor, action=Action.CREATE, obj=box)
        if shelf is not None:
            move_box(actor=actor, box=box, shelf=shelf, reason=_("Placed on the shelves"))
    return box


def update_box_note(*, actor, box: Box, **note) -> Box:
    """Change the box note (备考表): contents, who arranged and checked it and when."""
    _require_keeper(actor)
    allowed = {"note", "arranged_by", "arranged_on", "checked_by", "checked_on", "spine"}
    with transaction.atomic():
        before = {k: getattr(box, k) for k in note if k in allowed}
        for key, value in note.items():
            if key in allowed:
                setattr(box, key, value)
        box.full_clean()
        box.save()
        record_event(
            actor=actor,
            action=Action.UPDATE,
            obj=box,
            before=before,
            after={k: getattr(box, k) for k in before},
        )
    return box


def move_box(*, actor, box: Box, shelf: Shelf | None, reason: str = "") -> BoxMove:
    """Put ``box`` on ``shelf`` (None: take it off the shelves); the move is kept."""
    _require_keeper(actor)
    with transaction.atomic():
        box = Box.objects.select_for_update().get(pk=box.pk)
        move = BoxMove.objects.create(
            box=box,
            from_shelf=box.shelf,
            to_shelf=shelf,
            at=timezone.now(),
            by=actor,
            reason=reason,
        )
        before = box.shelf.code if box.shelf else None
        box.shelf = shelf
        box.save(update_fields=["shelf"])
        record_event(
            actor=actor,
            action=Action.UPDATE,
            obj=box,
            before={"location": before},
            after={"location": shelf.code if shelf else None},
            detail={"reason": reason} if reason else None,
        )
    return move


def place_records(*, actor, box: Box, records) -> int:
    """Put ``records`` into ``box`` (taking them out of any other box); how many were placed.

    Every record must be one the actor may change: placing a record is a change to where it is.
    """
    _require_keeper(actor)
    records = list(records)
    for record in records:
        if not may_write_record(actor, record):
            raise PermissionDenied(
                _("You may not place record %(code)s.")
                % {"code": record.archival_code or record.pk}
            )
    now = timezone.now()
    with transaction.atomic():
        previous = dict(
            Placement.objects.filter(record__in=records).values_list("record_id", "box__code")
        )
        Placement.objects.filter(record__in=records).delete()
        Placement.objects.bulk_create(
            [Placement(record=r, box=box, placed_at=now, placed_by=actor) for r in records]
        )
        record_events(
            actor=actor,
            events=[
                Event(
                    action=Action.UPDATE,
                    obj=r,
                    before={"box": previous.get(r.pk)},
                    after={"box": box.code},
                )
                for r in records
            ],
        )
    return len(records)


def place_by_codes(*, actor, box: Box, codes: list[str]) -> int:
    """Place the visible records with these archival (or legacy) codes; unknown codes fail."""
    wanted = {c.strip() for c in codes if c.strip()}
    if not wanted:
        return 0
    found = list(visible_records(actor).filter(archival_code__in=wanted)) + list(
        visible_records(actor).filter(archival_code__isnull=True, legacy_number__in=wanted)
    )
    known = {r.archival_code for r in found} | {r.legacy_number for r in found}
    missing = sorted(wanted - known)
    if missing:
        raise ValidationError(
            _("No such record: %(codes)s") % {"codes": ", ".join(missing)}, code="unknown"
        )
    return place_records(actor=actor, box=box, records=found)


# --- Inventory -----------------------------------------------------------------------------


def start_inventory(*, actor, room: Room) -> Inventory:
    """Begin counting ``room``: the boxes now on its shelves are what the count expects."""
    _require_keeper(actor)
    with transaction.atomic():
        expected = list(
            Box.objects.filter(shelf__room=room).order_by("code").values_list("code", flat=True)
        )
        inventory = Inventory.objects.create(
            room=room, started_at=timezone.now(), started_by=actor, expected=expected
        )
        record_event(
            actor=actor, action=Action.CREATE, obj=inventory, detail={"expected": len(expected)}
        )
    return inventory


def scan_box(*, actor, inventory: Inventory, code: str) -> InventoryScan:
    """Mark the box of ``code`` found (a scanner gun types the code and Enter). Scanning a
    code twice keeps the first scan."""
    _require_keeper(actor)
    if inventory.closed_at:
        raise ValidationError(_("This inventory is closed."), code="closed")
    code = code.strip().upper()
    if not code:
        raise ValidationError(_("Scan or type a box code."), code="empty")
    box = Box.objects.filter(code=code).first()
    try:
        with transaction.atomic():
            return InventoryScan.objects.create(
                inventory=inventory, code=code, box=box, at=timezone.now(), by=actor
            )
    except IntegrityError:
        return InventoryScan.objects.get(inventory=inventory, code=code)


def close_inventory(*, actor, inventory: Inventory) -> Inventory:
    """End the count; its discrepancies (see ``selectors.discrepancies``) go to the trail."""
    from .selectors import discrepancies

    _require_keeper(actor)
    with transaction.atomic():
        inventory.closed_at = timezone.now()
        inventory.save(update_fields=["closed_at"])
        report = discrepancies(inventory)
        record_event(
            actor=actor,
            action=Action.UPDATE,
            obj=inventory,
            after={"closed": True},
            detail={
                "missing": report["missing"],
                "misplaced": [s["code"] for s in report["misplaced"]],
                "unknown": report["unknown"],
                "found": len(report["found"]),
            },
        )
    return inventory


# --- The eight protections: inspections ----------------------------------------------------


def record_inspection(*, actor, room: Room, results: dict, remarks: str = "", at=None):
    """An inspection against the room's checklist: ``results`` maps each protection to
    ``{"ok": bool, "note": str}``; a protection left out counts as not checked (not OK)."""
    _require_keeper(actor)
    checked = {
        p.value: {
            "ok": bool(results.get(p.value, {}).get("ok")),
            "note": str(results.get(p.value, {}).get("note", ""))[:500],
        }
        for p in room.protections
    }
    with transaction.atomic():
        inspection = Inspection.objects.create(
            room=room, at=at or timezone.now(), by=actor, results=checked, remarks=remarks
        )
        record_event(actor=actor, action=Action.CREATE, obj=inspection, after=checked)
    return inspection


# --- The eight protections: climate readings and alerts ------------------------------------


@dataclass
class ReadingIn:
    """A reading before it is stored: when, and temperature and/or humidity."""

    at: datetime.datetime
    temperature: Decimal | None = None
    humidity: Decimal | None = None


def _decimal(value, label):
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value).strip().replace(",", ".")).quantize(Decimal("0.1"))
    except InvalidOperation:
        raise ValidationError(
            _("%(label)s is not a number: %(value)s") % {"label": label, "value": value},
            code="not_a_number",
        ) from None


def reading_in(*, at, temperature=None, humidity=None) -> ReadingIn:
    """Parse one reading as a form, a CSV line or a sensor sends it."""
    if isinstance(at, str):
        parsed = parse_datetime(at.strip().replace("/", "-"))
        if parsed is None:
            raise ValidationError(_("Not a time: %(value)s") % {"value": at}, code="bad_time")
        at = parsed
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    reading = ReadingIn(
        at=at,
        temperature=_decimal(temperature, _("Temperature")),
        humidity=_decimal(humidity, _("Humidity")),
    )
    if reading.temperature is None and reading.humidity is None:
        raise ValidationError(_("A reading needs a temperature or a humidity."), code="empty")
    return reading


def record_readings(*, actor, room: Room, readings: list[ReadingIn], source: str) -> dict:
    """Store readings (a reading of the same room and time again is skipped) and raise the
    alerts they call for. Returns ``{"stored": n, "skipped": n, "alerts": [Alert, …]}``."""
    _require_keeper(actor)
    readings = sorted(readings, key=lambda r: r.at)
    with transaction.atomic():
        known = set(
            Reading.objects.filter(room=room, at__in=[r.at for r in readings]).values_list(
                "at", flat=True
            )
        )
        new = [
            Reading(
                room=room, at=r.at, temperature=r.temperature, humidity=r.humidity, source=source
            )
            for r in readings
            if r.at not in known
        ]
        Reading.objects.bulk_create(new)
        alerts = _excursions(room, new) + _swings(room, new)
        if new:
            record_event(
                actor=actor,
                action=Action.IMPORT if source != Reading.Source.FORM else Action.CREATE,
                obj=room,
                object_type="stacks.reading",
                detail={
                    "source": source,
                    "readings": len(new),
                    "from": new[0].at,
                    "to": new[-1].at,
                    "alerts": [a.pk for a in alerts],
                },
            )
    return {"stored": len(new), "skipped": len(readings) - len(new), "alerts": alerts}


def _out_of_range(room: Room, kind: str, value: Decimal) -> bool:
    low, high = (
        (room.temperature_min, room.temperature_max)
        if kind == Alert.Kind.TEMPERATURE
        else (room.humidity_min, room.humidity_max)
    )
    return value < low or value > high


def _excursions(room: Room, readings: list[Reading]) -> list[Alert]:
    """Open an alert when a value leaves its range, extend it while it stays out, end it when a
    reading is back in range: one alert per excursion."""
    touched = {}
    for kind, field in ((Alert.Kind.TEMPERATURE, "temperature"), (Alert.Kind.HUMIDITY, "humidity")):
        ongoing = (
            Alert.objects.filter(room=room, kind=kind, ended_at__isnull=True)
            .order_by("-started_at")
            .first()
        )
        for reading in readings:
            value = getattr(reading, field)
            if value is None:
                continue
            if _out_of_range(room, kind, value):
                if ongoing is None:
                    ongoing = Alert(
                        room=room,
                        kind=kind,
                        started_at=reading.at,
                        last_at=reading.at,
                        worst=value,
                        readings=0,
                    )
                ongoing.readings += 1
                ongoing.last_at = reading.at
                middle = (room.temperature_min + room.temperature_max) / 2
                if kind == Alert.Kind.HUMIDITY:
                    middle = (room.humidity_min + room.humidity_max) / 2
                if abs(value - middle) > abs(ongoing.worst - middle):
                    ongoing.worst = value
                ongoing.save()
                touched[ongoing.pk] = ongoing
            elif ongoing is not None:
                ongoing.ended_at = reading.at
                ongoing.save(update_fields=["ended_at"])
                touched[ongoing.pk] = ongoing
                ongoing = None
    return list(touched.values())


def _swings(room: Room, readings: list[Reading]) -> list[Alert]:
    """One alert per room, kind and day whose readings spread wider than the allowed swing."""
    days = {timezone.localtime(r.at).date() for r in readings}
    alerts = []
    for day in sorted(days):
        start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
        spread = Reading.objects.filter(
            room=room, at__gte=start, at__lt=start + datetime.timedelta(days=1)
        ).aggregate(
            t_low=Min("temperature"),
            t_high=Max("temperature"),
            h_low=Min("humidity"),
            h_high=Max("humidity"),
        )
        for kind, low, high, swing in (
            (
                Alert.Kind.TEMPERATURE_SWING,
                spread["t_low"],
                spread["t_high"],
                room.temperature_swing,
            ),
            (Alert.Kind.HUMIDITY_SWING, spread["h_low"], spread["h_high"], room.humidity_swing),
        ):
            if low is None or high - low <= 2 * swing:
                continue
            alert, created = Alert.objects.get_or_create(
                room=room,
                kind=kind,
                day=day,
                defaults={
                    "started_at": start,
                    "last_at": max(r.at for r in readings),
                    "ended_at": start + datetime.timedelta(days=1),
                    "worst": high - low,
                },
            )
            if not created and high - low > alert.worst:
                alert.worst = high - low
                alert.save(update_fields=["worst"])
            alerts.append(alert)
    return alerts


#: Column names a CSV of readings may use (a logger's export, or a sheet typed by hand).
CSV_COLUMNS = {
    "at": {"at", "time", "datetime", "timestamp", "时间", "日期时间", "记录时间"},
    "temperature": {"temperature", "temp", "t", "温度", "温度(℃)", "温度(°c)", "温度℃"},
    "humidity": {"humidity", "rh", "h", "湿度", "湿度(%)", "相对湿度", "湿度%rh", "湿度(%rh)"},
}


def import_readings_csv(*, actor, room: Room, data: bytes) -> dict:
    """Readings from a CSV file with a header row (time, temperature, humidity in any order)."""
    _require_keeper(actor)
    text = data.decode("utf-8-sig", errors="replace")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise ValidationError(_("The file is empty."), code="empty")
    header = [h.strip().lower().replace(" ", "") for h in rows[0]]
    where = {}
    for key, names in CSV_COLUMNS.items():
        for index, name in enumerate(header):
            if name in names:
                where[key] = index
    if "at" not in where or len(where) < 2:
        raise ValidationError(
            _("The first row must name the columns: time, temperature, humidity."),
            code="no_header",
        )
    readings, errors = [], []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            readings.append(
                reading_in(
                    **{key: row[index] if index < len(row) else "" for key, index in where.items()}
                )
            )
        except ValidationError as exc:
            errors.append(_("Line %(n)d: %(error)s") % {"n": number, "error": exc.messages[0]})
    if errors:
        raise ValidationError(errors[:20], code="bad_lines")
    return record_readings(actor=actor, room=room, readings=readings, source=Reading.Source.CSV)


def close_alert(*, actor, alert: Alert, handling: str) -> Alert:
    """Close an alert, saying how it was handled (dehumidifier on, window closed, …)."""
    _require_keeper(actor)
    if not handling.strip():
        raise ValidationError(_("Say how the alert was handled."), code="no_handling")
    with transaction.atomic():
        alert.closed_at = timezone.now()
        alert.closed_by = actor
        alert.handling = handling.strip()
        alert.save(update_fields=["closed_at", "closed_by", "handling"])
        record_event(
            actor=actor, action=Action.UPDATE, obj=alert, after={"handling": alert.handling}
        )
    return alert
