"""Dates a register can hold but a life cannot, listed row by row in the dry run: a retirement
in the future (born 1967–70, retired 2027–30), a year typed wrong (2062), a date before the
birth. The rows are imported as written; the clerk is told which to look at."""

import datetime

import pytest
from django.urls import reverse

from dangan.catalogue.models import Category, Record
from dangan.intake.services import import_register
from tests.api.conftest import id_number

pytestmark = pytest.mark.django_db

THIS_YEAR = datetime.date.today().year


@pytest.fixture
def tx(db):
    return Category.objects.get(code="TX")


@pytest.fixture
def register(tmp_path):
    rows = [
        ("张秀兰", id_number("32092519680512002"), "建湖县农机厂", f"{THIS_YEAR + 2}-05"),
        ("李建华", id_number("32092519500301003"), "建湖县棉纺厂", "2062-03-01"),
        ("王德明", id_number("32092519550615001"), "建湖县化肥厂", "2015-06"),
        ("赵玉梅", id_number("32092519600101004"), "建湖县印刷厂", "1950-01"),
    ]
    path = tmp_path / "退休花名册.csv"
    path.write_text(
        "姓名,身份证号,单位,退休日期\n" + "".join(",".join(r) + "\n" for r in rows),
        encoding="utf-8",
    )
    return path


def test_dry_run_lists_future_and_impossible_dates_row_by_row(register, tx, fonds):
    report = import_register(actor=None, path=register, category=tx, fonds=fonds, dry_run=True)

    assert report.mapping["单位"] == "meta.work_unit"  # by the field's label 工作单位
    assert report.errors == []
    assert [(c.row, c.column, c.code) for c in report.checks] == [
        (2, "退休日期", "date_in_future"),
        (3, "退休日期", "date_in_future"),
        (5, "退休日期", "date_before_birth"),
    ]
    assert "2062-03-01" in report.checks[1].message
    assert Record.objects.count() == 0


def test_the_rows_are_imported_as_written_with_the_dates_to_check_reported(register, tx, fonds):
    report = import_register(actor=None, path=register, category=tx, fonds=fonds)

    assert report.created == 4 and len(report.checks) == 3
    record = Record.objects.get(persons__name="李建华")
    assert record.metadata["retire_date"] == "2062-03-01"
    assert record.metadata["work_unit"] == "建湖县棉纺厂"


def test_the_dry_run_page_shows_the_dates_to_check(register, tx, archivist, logged_in):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = logged_in(archivist)
    upload = client.post(
        reverse("intake:import-start"),
        {
            "file": SimpleUploadedFile(register.name, register.read_bytes()),
            "category": "TX",
            "fonds": "A001",
        },
    )
    page = client.get(upload.url)
    columns = {h: f.value() for h, f in page.context["form"].columns()}
    assert columns["单位"] == "meta.work_unit"
    fields = {f"col_{i}": v or "" for i, v in enumerate(columns.values())}
    dry = client.post(upload.url, {**fields, "dry_run": "1"}).content.decode()
    checks = dry.split('class="import-checks"')[1].split("</table>")[0]
    assert checks.count("<tr>") == 4  # the header and three rows
    assert "2062-03-01" in checks and "date_in_future</" not in checks
