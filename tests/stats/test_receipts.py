"""The annual report's receipts, transfers, destructions and use by purpose and outcome, per
year and per unit: what the test did is what the report counts, over visible records only."""

import io
import subprocess
import tempfile

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from dangan.access import services as access
from dangan.access.models import Outcome, Purpose, Use
from dangan.accounts.models import Role
from dangan.appraisal import services as appraisal
from dangan.appraisal.models import Batch, Choice
from dangan.intake import handover
from dangan.stats.annual_report import annual_report
from dangan.stats.selectors import receipts_by_unit, use_by_purpose_and_outcome
from tests.api.conftest import id_number as valid_id
from tests.appraisal.conftest import content_store, expired, leader, member  # noqa: F401
from tests.intake.conftest import id_number, scan, town, town_clerk  # noqa: F401

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year


@pytest.fixture
def received(town_clerk, archivist, fonds, category, scan, id_number):  # noqa: F811
    """A hand-over of three items from the town: two accepted (filed), one returned."""
    listing = handover.create_list(
        actor=town_clerk, fonds=fonds, category=category, title="托管档案移交"
    )
    for n, name in enumerate(["张三", "李四", "王五"], start=1):
        handover.add_item(
            actor=town_clerk,
            handover=listing,
            values={"date": f"2024-03-0{n}", "responsible": "城关镇社保所"},
            persons=[{"id_number": id_number(), "name": name}],
            files=[(f"{n}.jpg", io.BytesIO(scan(n)))],
        )
    handover.submit(actor=town_clerk, handover=listing)
    items = {i.position: i.pk for i in listing.items.all()}
    return handover.answer(
        actor=archivist,
        handover=listing,
        answers={
            items[1]: ("accepted", ""),
            items[2]: ("returned", "缺页"),
            items[3]: ("accepted", ""),
        },
    )


@pytest.fixture
def destroyed(archivist, member, leader, expired, django_capture_on_commit_callbacks):  # noqa: F811
    """Two expired records destroyed through an approved destruction list."""
    records = [expired(title=f"[到期档案{n}]", responsible="县就业局") for n in (1, 2)]
    batch = appraisal.open_batch(
        actor=archivist, kind=Batch.Kind.RETENTION, title="到期", records=records, members=[member]
    )
    for item in batch.items.all():
        appraisal.decide(actor=member, item=item, choice=Choice.DESTROY, reason="到期")
    appraisal.close_batch(actor=archivist, batch=batch)
    listing = appraisal.propose_destruction(actor=archivist, batch=batch, approver=leader)
    with django_capture_on_commit_callbacks(execute=True):
        appraisal.approve_destruction(actor=leader, listing=listing, note="同意")
    return records


def _by_unit(rows):
    return {row["unit"]: row for row in rows}


def test_the_reports_receipts_and_destructions_equal_what_was_done(
    received,
    destroyed,
    town,  # noqa: F811
    archivist,
):
    rows = _by_unit(receipts_by_unit(archivist, year=YEAR))
    town_row = rows[town.name]
    assert (town_row["handovers"], town_row["accepted"]) == (1, 2)  # the returned one not counted
    assert town_row["filed"] == 2
    report = annual_report(archivist, year=YEAR)
    receipts_title, _heads, receipt_cells = report.sections[0]
    totals = receipt_cells[-1]
    assert totals[0] == "合计"
    # handovers, accepted, filed (the hand-over's two and the two expired records described
    # this year), destroyed
    assert totals[1:] == [1, 2, 4, 2]
    assert sum(row["destroyed"] for row in rows.values()) == 2
    assert annual_report(archivist, year=YEAR - 1).sections[0][2][-1][1:] == [0, 0, 0, 0]


def test_receipts_count_only_records_the_user_may_see(received, make_user, category):
    from dangan.catalogue.models import Category

    other = make_user(role=Role.ARCHIVIST, grants=({"category": Category.objects.get(code="TX")},))
    assert all(row["accepted"] == row["filed"] == 0 for row in receipts_by_unit(other, year=YEAR))


def test_use_is_counted_by_purpose_and_outcome(make_record, archivist, make_user, logged_in):
    record = make_record(actor=archivist)
    clerk = make_user(role=Role.READING_CLERK)
    visit = access.register_visit(
        actor=clerk,
        visitor_name="赵六",
        id_number=valid_id("11010119800101123"),
        purpose=Purpose.PERSONAL,
        records=[record],
    )
    (first,) = visit.uses.all()
    (second,) = access.add_consulted(actor=clerk, visit=visit, records=[record])
    client = logged_in(clerk)
    page = client.get(reverse("access:visit-detail", args=[visit.pk])).content.decode()
    assert reverse("access:use-outcome", args=[first.pk]) in page
    client.post(reverse("access:use-outcome", args=[first.pk]), {"outcome": Outcome.PROOF})
    assert Use.objects.get(pk=first.pk).outcome == Outcome.PROOF
    client.post(reverse("access:use-outcome", args=[second.pk]), {"outcome": "nonsense"})
    assert Use.objects.get(pk=second.pk).outcome == ""
    personal = {r["purpose"]: r for r in use_by_purpose_and_outcome(archivist, year=YEAR)}[
        Purpose.PERSONAL
    ]
    assert (personal["proof"], personal["unknown"], personal["total"]) == (1, 1, 2)
    outcomes = annual_report(archivist, year=YEAR).sections[2]
    assert outcomes[1][:2] == ["利用目的", "解决问题"] and outcomes[2][-1][-1] == 2


def test_the_report_and_dashboard_carry_the_new_tables_in_excel(
    received, destroyed, archivist, logged_in, exported
):
    client = logged_in(archivist)
    xlsx = exported(client, client.post(reverse("stats:report-export", args=[YEAR, "xlsx"])))
    cells = [
        [c for c in row if c is not None]
        for row in load_workbook(io.BytesIO(xlsx)).active.iter_rows(values_only=True)
    ]
    titles = [row[0] for row in cells if len(row) == 1]
    assert "接收与处置" in titles and "利用目的与利用效果" in titles
    receipts_at = [row[:1] for row in cells].index(["接收与处置"])
    assert cells[receipts_at + 1][:3] == ["单位", "接收移交(批)", "接收档案(件)"]
    pdf = exported(client, client.post(reverse("stats:report-export", args=[YEAR, "pdf"])))
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        text = subprocess.run(
            ["pdftotext", file.name, "-"], capture_output=True, text=True, check=True
        ).stdout
    assert "接收与处置" in text and "利用目的与利用效果" in text and "城关镇社保所" in text
    table = exported(client, client.post(reverse("stats:table-export", args=["receipts"])))
    rows = list(load_workbook(io.BytesIO(table)).active.iter_rows(values_only=True))
    assert any(row[0] == "城关镇社保所" and row[1:5] == (1, 2, 2, 0) for row in rows)
    report = client.get(reverse("stats:report"), {"year": YEAR}).content.decode()
    assert report.count('data-section="1"') == 1 and "<title>" in report
    title = report[report.index("<title>") : report.index("</title>")]
    assert "接收与处置" not in title and report.index("annual-report") < report.index("接收与处置")
    page = client.get(reverse("stats:dashboard")).content.decode()
    assert 'id="table-receipts"' in page and 'id="table-outcome"' in page
