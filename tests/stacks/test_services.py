"""The stacks' services: boxes on shelves and their moves, records in boxes, inventories,
inspections, and the climate readings with one alert per excursion."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from dangan.accounts.models import Role, Secrecy
from dangan.audit.models import AuditEvent
from dangan.audit.services import verify_chain
from dangan.stacks import selectors, services
from dangan.stacks.models import Alert, Placement, Reading


def at(hour, day=1):
    return timezone.make_aware(datetime.datetime(2026, 7, day, hour, 0))


def readings(*values, day=1, field="temperature"):
    return [services.ReadingIn(at=at(h, day), **{field: Decimal(v)}) for h, v in values]


def test_room_gets_its_shelf_places_with_location_codes(room):
    assert room.shelves.count() == 12
    assert services.find_shelf("K1-02-01-03").code == "K1-02-01-03"
    assert services.find_shelf("K1-09-01-01") is None


def test_boxes_are_numbered_in_their_class(archivist, fonds, category):
    first = services.create_box(actor=archivist, fonds=fonds, category=category, year=2001)
    second = services.create_box(actor=archivist, fonds=fonds, category=category, year=2001)
    assert first.code == "A001-SYTG-2001-001"
    assert second.code == "A001-SYTG-2001-002"


def test_moving_a_box_keeps_its_history(archivist, fonds, room):
    box = services.create_box(
        actor=archivist, fonds=fonds, shelf=services.find_shelf("K1-01-01-01")
    )
    services.move_box(actor=archivist, box=box, shelf=services.find_shelf("K1-02-02-03"))
    box.refresh_from_db()
    assert box.shelf.code == "K1-02-02-03"
    moves = [(m.from_shelf and m.from_shelf.code, m.to_shelf.code) for m in box.moves.all()]
    assert moves == [("K1-01-01-01", "K1-02-02-03"), (None, "K1-01-01-01")]
    assert AuditEvent.objects.filter(object_type="stacks.box", action="update").count() == 2
    assert verify_chain() == []


def test_records_are_placed_only_where_the_archivist_may_write(
    archivist, make_user, fonds, make_record
):
    box = services.create_box(actor=archivist, fonds=fonds)
    mine = make_record()
    secret = make_record(secrecy=Secrecy.SECRET)
    narrow = make_user(grants=[{"max_secrecy": Secrecy.INTERNAL}])
    assert services.place_records(actor=archivist, box=box, records=[mine, secret]) == 2
    with pytest.raises(PermissionDenied):
        services.place_records(actor=narrow, box=box, records=[secret])
    leader = make_user(role=Role.LEADER)
    with pytest.raises(PermissionDenied):
        services.place_records(actor=leader, box=box, records=[mine])
    assert Placement.objects.filter(box=box).count() == 2
    # The narrow archivist sees one of the two records in the box; the label counts both.
    records, total = selectors.box_records(narrow, box)
    assert [r.pk for r in records] == [mine.pk] and total == 2


def test_placing_in_another_box_moves_the_record(archivist, fonds, make_record):
    record = make_record()
    first = services.create_box(actor=archivist, fonds=fonds)
    second = services.create_box(actor=archivist, fonds=fonds)
    services.place_records(actor=archivist, box=first, records=[record])
    services.place_by_codes(actor=archivist, box=second, codes=[record.archival_code])
    assert Placement.objects.get(record=record).box == second
    with pytest.raises(ValidationError):
        services.place_by_codes(actor=archivist, box=second, codes=["NO-SUCH-CODE"])


def test_inventory_reports_missing_misplaced_and_unknown_boxes(archivist, fonds, room):
    other = services.create_room(
        actor=archivist, code="K2", name="二号库房", columns=1, sections=1, layers=1
    )
    here = [
        services.create_box(actor=archivist, fonds=fonds, shelf=services.find_shelf(code))
        for code in ("K1-01-01-01", "K1-01-01-02", "K1-02-01-01")
    ]
    elsewhere = services.create_box(actor=archivist, fonds=fonds, shelf=other.shelves.first())
    inventory = services.start_inventory(actor=archivist, room=room)
    services.scan_box(actor=archivist, inventory=inventory, code=here[0].code.lower())
    services.scan_box(actor=archivist, inventory=inventory, code=here[0].code)  # twice: once
    services.scan_box(actor=archivist, inventory=inventory, code=here[2].code)
    services.scan_box(actor=archivist, inventory=inventory, code=elsewhere.code)
    services.scan_box(actor=archivist, inventory=inventory, code="XYZ-1")
    services.close_inventory(actor=archivist, inventory=inventory)
    report = selectors.discrepancies(inventory)
    assert report["missing"] == [here[1].code]
    assert report["found"] == sorted([here[0].code, here[2].code])
    assert report["misplaced"] == [{"code": elsewhere.code, "location": "K2-01-01-01"}]
    assert report["unknown"] == ["XYZ-1"]
    with pytest.raises(ValidationError):
        services.scan_box(actor=archivist, inventory=inventory, code=here[1].code)
    event = AuditEvent.objects.get(object_type="stacks.inventory", action="update")
    assert event.detail["missing"] == [here[1].code]


def test_inspection_covers_the_eight_protections(archivist, room):
    inspection = services.record_inspection(
        actor=archivist, room=room, results={"fire": {"ok": True}, "damp": {"ok": False}}
    )
    assert len(inspection.results) == 8
    assert "damp" in inspection.failed and "fire" not in inspection.failed
    room.keeps_media = True
    assert len(services.record_inspection(actor=archivist, room=room, results={}).results) == 9


def test_out_of_range_readings_raise_one_alert_per_excursion(archivist, room):
    # 26, 27, 25 °C for three hours: one excursion, one alert; back to 20; then 12 °C: another.
    values = [(8, "20"), (9, "26"), (10, "27.5"), (11, "25"), (12, "20"), (13, "12")]
    result = services.record_readings(
        actor=archivist, room=room, readings=readings(*values), source=Reading.Source.FORM
    )
    alerts = list(Alert.objects.filter(kind=Alert.Kind.TEMPERATURE).order_by("started_at"))
    assert len(alerts) == 2
    first, second = alerts
    assert (first.readings, first.worst, first.started_at, first.ended_at) == (
        3,
        Decimal("27.5"),
        at(9),
        at(12),
    )
    assert second.ended_at is None and second.worst == Decimal("12")
    assert {a.pk for a in result["alerts"]} >= {first.pk, second.pk}


def test_readings_sent_one_by_one_extend_the_same_alert(archivist, room):
    for hour in range(9, 15):
        services.record_readings(
            actor=archivist,
            room=room,
            readings=readings((hour, "70"), field="humidity"),
            source=Reading.Source.SENSOR,
        )
    alert = Alert.objects.get(kind=Alert.Kind.HUMIDITY)
    assert alert.readings == 6 and alert.ended_at is None
    # A resent reading is skipped, not counted twice.
    again = services.record_readings(
        actor=archivist, room=room, readings=readings((9, "70"), field="humidity"), source="sensor"
    )
    assert again["stored"] == 0 and again["skipped"] == 1
    assert Alert.objects.get(kind=Alert.Kind.HUMIDITY).readings == 6


def test_a_wide_daily_swing_raises_one_alert_per_day(archivist, room):
    # Within 14–24 °C all day, but 15 → 21 °C is a swing of 6 > ±2 °C.
    services.record_readings(
        actor=archivist, room=room, readings=readings((6, "15"), (14, "21")), source="form"
    )
    services.record_readings(
        actor=archivist, room=room, readings=readings((18, "22")), source="form"
    )
    swing = Alert.objects.get(kind=Alert.Kind.TEMPERATURE_SWING)
    assert swing.day == datetime.date(2026, 7, 1) and swing.worst == Decimal("7")
    assert not Alert.objects.filter(kind=Alert.Kind.TEMPERATURE).exists()


def test_limits_are_configurable_per_room(archivist):
    room = services.create_room(
        actor=archivist, code="MEDIA", name="磁介质库", temperature_max=Decimal("20")
    )
    services.record_readings(
        actor=archivist, room=room, readings=readings((9, "22")), source="form"
    )
    assert Alert.objects.filter(room=room, kind=Alert.Kind.TEMPERATURE).count() == 1


def test_alert_is_closed_with_how_it_was_handled(archivist, room):
    services.record_readings(
        actor=archivist, room=room, readings=readings((9, "30")), source="form"
    )
    alert = Alert.objects.get()
    with pytest.raises(ValidationError):
        services.close_alert(actor=archivist, alert=alert, handling=" ")
    services.close_alert(actor=archivist, alert=alert, handling="开启空调降温")
    alert.refresh_from_db()
    assert alert.closed_at and alert.handling == "开启空调降温"
    assert not selectors.open_alerts().exists()


def test_csv_import_reads_chinese_headers_and_reports_bad_lines(archivist, room):
    data = "时间,温度,湿度\n2026-07-02 08:00,18.5,59\n2026/07/02 09:00,19,62\n".encode()
    result = services.import_readings_csv(actor=archivist, room=room, data=data)
    assert result["stored"] == 2
    assert Alert.objects.get().kind == Alert.Kind.HUMIDITY
    with pytest.raises(ValidationError) as error:
        services.import_readings_csv(
            actor=archivist, room=room, data=b"time,temperature\n2026-07-03 08:00,warm\n"
        )
    assert "Line 2" in error.value.messages[0] or "2" in error.value.messages[0]
