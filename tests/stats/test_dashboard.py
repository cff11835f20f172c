"""The dashboard's numbers: counted over what the viewer may see, drillable to the catalogue,
exportable; and the annual report, whose totals are the catalogue's."""

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from dangan.accounts.models import Role, Secrecy
from dangan.audit.models import AuditEvent
from dangan.catalogue.models import Category
from dangan.catalogue.selectors import read_record, visible_records
from dangan.jobs.models import Job
from dangan.stats import exports, selectors
from dangan.stats.annual_report import annual_report
from tests.pdf_glyphs import assert_chinese_glyphs, assert_pdfa_2b


@pytest.fixture
def holdings(make_record, db):
    tx = Category.objects.get(code="TX")
    records = [
        make_record(year=2001),
        make_record(year=2001),
        make_record(year=2003, secrecy=Secrecy.SECRET),
        make_record(year=2003, category=tx, retention="Y"),
    ]
    return records


def test_counts_are_over_visible_records_only(holdings, make_user, category):
    everything = make_user(role=Role.LEADER, grants=[{"max_secrecy": Secrecy.SECRET}])
    narrow = make_user(role=Role.LEADER, grants=[{"category": category, "max_secrecy": 1}])
    wide = selectors.dashboard(everything)
    assert wide["total"] == 4
    assert {c["code"]: c["count"] for c in wide["by_category"]} == {"SYTG": 3, "TX": 1}
    assert {y["year"]: y["count"] for y in wide["by_year"]} == {2001: 2, 2003: 2}
    small = selectors.dashboard(narrow)
    assert small["total"] == visible_records(narrow).count() == 2
    assert [c["code"] for c in small["by_category"]] == ["SYTG"]
    assert small["growth"][-1]["total"] == 2


def test_administrators_get_no_dashboard(logged_in, make_user):
    auditor = make_user(role=Role.AUDITOR, grants=[])
    assert logged_in(auditor).get(reverse("stats:dashboard")).status_code == 403


def test_use_counts_only_uses_of_visible_records(holdings, make_user, category):
    from dangan.access.services import lend, register_visit
    from tests.api.conftest import id_number

    reader = make_user(role=Role.ARCHIVIST, grants=[{"max_secrecy": Secrecy.SECRET}])
    narrow = make_user(role=Role.LEADER, grants=[{"category": category, "max_secrecy": 1}])
    read_record(reader, holdings[0].pk)  # a look at the record page is not a use
    register_visit(
        actor=reader,
        visitor_name="萬平德",
        id_number=id_number("36042119620315001"),
        purpose="personal",
        records=[holdings[0], holdings[3]],  # TX: not the narrow leader's
    )
    lend(actor=reader, record=holdings[1], borrower_name="王科长", purpose="work")
    this_month = timezone.localdate().strftime("%Y-%m")
    wide = {u["month"]: u for u in selectors.use_by_month(reader)}[this_month]
    small = {u["month"]: u for u in selectors.use_by_month(narrow)}[this_month]
    assert (wide["reading"], wide["loans"], small["reading"]) == (2, 1, 1)
    assert len(selectors.use_by_month(reader)) == 12
    purposes = {
        p["purpose"]: p["count"]
        for p in selectors.use_by_purpose(reader, year=timezone.localdate().year)
    }
    assert (purposes["personal"], purposes["work"], purposes["research"]) == (2, 1, 0)


def test_dashboard_page_carries_its_data_and_drill_down_links(logged_in, holdings, make_user):
    leader = make_user(role=Role.LEADER, grants=[{"max_secrecy": Secrecy.SECRET}])
    response = logged_in(leader).get(reverse("stats:dashboard"))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="dashboard-data" type="application/json"' in page
    assert f'data-catalogue-url="{reverse("catalogue:record-list")}"' in page
    assert "style=" not in page and "<style" not in page
    assert response.context["data"]["total"] == 4


def test_any_dashboard_table_exports_to_excel_by_a_background_job(
    logged_in, holdings, archivist, exported
):
    client = logged_in(archivist)
    url = reverse("stats:table-export", args=["category"])
    assert client.get(url).status_code == 405  # a button starts the job, a link does not
    started = client.post(url)
    job = Job.objects.get(owner=archivist, kind="stats.table")
    assert started["Location"] == job.get_absolute_url()
    sheet = load_workbook(io.BytesIO(exported(client, started))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[2] == ("SYTG", "失业人员托管档案", 3)
    # the same numbers as the page shows
    table = exports.dashboard_tables(selectors.dashboard(archivist))["category"]
    assert [list(row) for row in rows[2:]] == table["rows"]
    assert AuditEvent.objects.filter(action="export", object_type="stats").exists()
    assert AuditEvent.objects.filter(
        action="download", object_type="jobs.job", object_id=str(job.pk)
    ).exists()
    assert client.post(reverse("stats:table-export", args=["nope"])).status_code == 404


def test_only_the_owner_downloads_a_statistics_export(
    logged_in, holdings, archivist, make_user, exported
):
    client = logged_in(archivist)
    year = timezone.localdate().year
    exported(client, client.post(reverse("stats:report-export", args=[year, "xlsx"])))
    job = Job.objects.get(owner=archivist, kind="stats.annual_report_xlsx")
    other = logged_in(make_user(role=Role.ARCHIVIST))
    for suffix in ("", "download/", "status.json"):
        assert other.get(f"{job.get_absolute_url()}{suffix}").status_code == 404
    # an administrator reads no records, so counts none
    admin = logged_in(make_user(role=Role.SYSTEM_ADMIN, grants=()))
    assert admin.post(reverse("stats:report-export", args=[year, "pdf"])).status_code == 403


def test_report_totals_equal_the_catalogue(holdings, archivist):
    year = timezone.localdate().year
    report = annual_report(archivist, year=year)
    assert report.totals["total"] == visible_records(archivist).count() == 4
    assert report.totals["added"] == 4
    assert report.totals["Y"] == visible_records(archivist).filter(retention="Y").count()
    assert sum(report.totals[r] for r in ("Y", "D100", "D50", "D30", "D10")) == 4
    assert report.totals["items"] + report.totals["volumes"] == 4
    # Nothing was entered the year before.
    assert annual_report(archivist, year=year - 1).totals["added"] == 0


def test_report_exports_to_excel_and_pdf(logged_in, holdings, archivist, exported):
    client = logged_in(archivist)
    year = timezone.localdate().year
    xlsx = exported(client, client.post(reverse("stats:report-export", args=[year, "xlsx"])))
    rows = list(load_workbook(io.BytesIO(xlsx)).active.iter_rows(values_only=True))
    assert rows[0][0].startswith("档案工作基本情况统计年报")
    holdings_total = next(row for row in rows if row[0] == "合计")  # the other tables follow
    assert holdings_total[1] == 4
    # the job's figures are the page's: every row of the holdings table, cell by cell
    table = annual_report(archivist, year=year).table()
    assert [list(row) for row in rows[3 : 3 + len(table)]] == [list(r) for r in table]
    pdf = exported(client, client.post(reverse("stats:report-export", args=[year, "pdf"])))
    assert pdf.startswith(b"%PDF")
    assert_chinese_glyphs(pdf)
    assert_pdfa_2b(pdf)
    assert Job.objects.get(kind="stats.annual_report_pdf").file_name.endswith(".pdf")
    assert client.post(reverse("stats:report-export", args=[year, "doc"])).status_code == 404
    page = client.get(reverse("stats:report"), {"year": year}).content.decode()
    assert 'id="annual-report"' in page


def test_digitization_counts_pages_of_visible_records(holdings, archivist, make_user):
    from dangan.content.models import Blob, Page
    from dangan.digitize.models import PageProcessing

    blob = Blob.objects.create(
        sha256="a" * 64, sm3="b" * 64, size=1, mime="image/jpeg", format_name="JPEG"
    )
    for n, record in enumerate(holdings[:3], start=1):
        page = Page.objects.create(record=record, blob=blob, position=1, filename=f"{n}.jpg")
        PageProcessing.objects.create(page=page, state="done" if n < 3 else "pending")
    sytg = {d["code"]: d for d in selectors.dashboard(archivist)["digitization"]}["SYTG"]
    assert (sytg["records_scanned"], sytg["pages"], sytg["pages_ocr"]) == (3, 3, 2)
    narrow = make_user(grants=[{"max_secrecy": Secrecy.INTERNAL}])
    sytg = {d["code"]: d for d in selectors.dashboard(narrow)["digitization"]}["SYTG"]
    assert (sytg["records_scanned"], sytg["pages"]) == (2, 2)
