"""The reading room: visits with a checked ID number, records consulted, the register."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from openpyxl import load_workbook

from dangan.access import register, selectors, services
from dangan.access.models import Purpose, Use
from dangan.accounts.models import Role
from dangan.people.id_numbers import mask
from tests.api.conftest import id_number

pytestmark = pytest.mark.django_db

VISITOR_ID = id_number("36042119620315001")


def visit(clerk, **extra):
    values = {
        "visitor_name": "萬平德",
        "id_number": VISITOR_ID,
        "purpose": Purpose.PERSONAL,
        "visitor_unit": "县社保中心",
        **extra,
    }
    return services.register_visit(actor=clerk, **values)


def test_a_visit_records_what_was_consulted_as_use(records, clerk):
    v = visit(clerk, records=[records["open"], records["controlled"]])
    uses = Use.objects.filter(visit=v)
    assert uses.count() == 2
    assert {u.channel for u in uses} == {Use.Channel.READING_ROOM}
    assert {u.purpose for u in uses} == {Purpose.PERSONAL}


def test_a_wrong_id_number_is_refused(clerk):
    with pytest.raises(ValidationError) as exc:
        visit(clerk, id_number=VISITOR_ID[:-1] + ("0" if VISITOR_ID[-1] != "0" else "1"))
    assert exc.value.code == "id_checksum"


def test_an_old_15_digit_number_is_upgraded(clerk):
    v = visit(clerk, id_number="360421620315001")
    assert len(v.id_number) == 18


def test_purpose_comes_from_the_list(clerk):
    with pytest.raises(ValidationError):
        visit(clerk, purpose="curiosity")


def test_records_outside_the_clerks_grants_cannot_be_recorded(records, make_user):
    narrow = make_user(role=Role.READING_CLERK, grants=())
    with pytest.raises(ValidationError):
        visit(narrow, records=[records["open"]])


def test_only_the_desk_registers_visits(make_user):
    with pytest.raises(PermissionDenied):
        visit(make_user(role=Role.LEADER))


def test_the_audit_trail_never_holds_the_full_id_number(clerk):
    from dangan.audit.models import AuditEvent

    visit(clerk)
    for event in AuditEvent.objects.all():
        assert VISITOR_ID not in str(event.detail) + str(event.object_repr)


def test_register_as_excel_and_pdf_masks_id_numbers(records, clerk):
    visit(clerk, records=[records["open"]])
    today = timezone.localdate()
    visits = selectors.visits_between(clerk, today, today)
    sheet = load_workbook(io.BytesIO(register.register_xlsx(visits, start=today, end=today))).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row]
    assert mask(VISITOR_ID) in cells
    assert VISITOR_ID not in "".join(cells)
    assert records["open"].archival_code in "".join(cells)
    pdf = register.register_pdf(visits, start=today, end=today)
    assert pdf.startswith(b"%PDF")


def test_register_leaves_out_records_the_reader_may_not_see(records, clerk, make_user):
    visit(clerk, records=[records["secret"]])
    low = make_user(role=Role.READING_CLERK)  # grants up to confidential: sees it
    nobody = make_user(role=Role.LEADER, grants=())
    today = timezone.localdate()
    assert len(selectors.visits_between(low, today, today)[0].visible_uses) == 1
    assert selectors.visits_between(nobody, today, today)[0].visible_uses == []


def test_register_page_and_downloads(records, clerk, logged_in):
    visit(clerk, records=[records["open"]])
    client = logged_in(clerk)
    today = timezone.localdate().isoformat()
    page = client.get("/access/register/", {"start": today, "end": today, "format": "html"})
    assert page.status_code == 200
    assert mask(VISITOR_ID).encode() in page.content
    pdf = client.get("/access/register/", {"start": today, "end": today, "format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf"
    xlsx = client.get("/access/register/", {"start": today, "end": today, "format": "xlsx"})
    assert xlsx.status_code == 200


def test_visit_form_registers_and_resolves_codes(records, clerk, logged_in):
    client = logged_in(clerk)
    response = client.post(
        "/access/",
        {
            "visitor_name": "萬平德",
            "id_number": VISITOR_ID,
            "purpose": "work",
            "records": records["open"].archival_code,
        },
    )
    assert response.status_code == 302
    assert Use.objects.filter(record=records["open"]).count() == 1


def test_visits_out_of_range_are_not_listed(clerk):
    v = visit(clerk)
    v.at = timezone.now() - datetime.timedelta(days=40)
    v.save()
    today = timezone.localdate()
    assert selectors.visits_between(clerk, today - datetime.timedelta(days=3), today) == []
