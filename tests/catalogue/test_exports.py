"""The Excel export of the list's selection, in the 归档文件目录 layout."""

import datetime
import io

import openpyxl
import pytest
from django.urls import reverse

from dangan.accounts.models import Secrecy
from dangan.audit.models import AuditEvent
from dangan.catalogue.models import Category


@pytest.fixture
def tx(db):
    return Category.objects.get(code="TX")


@pytest.fixture
def export(exported):
    """The rows of the sheet the export of the list's selection ``params`` gives ``client``."""

    def sheet(client, params=None):
        response = client.get(reverse("catalogue:record-export"), params or {})
        assert response.status_code == 302  # to the background job's page
        book = openpyxl.load_workbook(io.BytesIO(exported(client, response)))
        return list(book.active.iter_rows(values_only=True))

    return sheet


def test_export_writes_the_catalogue_of_the_current_selection(
    logged_in, archivist, make_record, tx, export
):
    first = make_record(
        title="万平德失业人员托管档案",
        doc_number="就字〔2001〕3号",
        responsible="县就业局",
        date=datetime.date(2001, 5, 1),
        page_count=12,
        secrecy=Secrecy.SECRET,
        remarks="原件",
    )
    make_record(title="第二件", date=datetime.date(2001, 6, 2))
    make_record(title="退休档案", category=tx)
    rows = export(logged_in(archivist), {"category": first.category_id, "sort": "code"})
    assert rows[0][0] == "归档文件目录"
    assert list(rows[1]) == [
        "序号",
        "档号",
        "文号",
        "责任者",
        "题名",
        "日期",
        "密级",
        "页数",
        "备注",
    ]
    assert len(rows) == 4  # title, header, two SYTG records; the TX record is not selected
    assert list(rows[2]) == [
        1,
        first.archival_code,
        "就字〔2001〕3号",
        "县就业局",
        "万平德失业人员托管档案",
        "20010501",
        "秘密",
        12,
        "原件",
    ]
    assert rows[3][0] == 2 and rows[3][5] == "20010602"


def test_export_is_audited_with_filters_and_row_count(logged_in, archivist, make_record, export):
    make_record(title="甲")
    make_record(title="乙")
    export(logged_in(archivist), {"year": 2001})
    event = AuditEvent.objects.get(action="export")
    assert event.actor == archivist
    assert event.detail["rows"] == 2 and event.detail["filters"]["year"] == 2001


def test_export_holds_only_records_the_user_may_see(make_user, logged_in, make_record, tx, export):
    make_record(title="托管档案")
    make_record(title="退休档案", category=tx)
    rows = export(logged_in(make_user(grants=[{"category": tx, "max_secrecy": 3}])))
    assert [row[4] for row in rows[2:]] == ["退休档案"]


def test_an_export_of_a_search_by_id_number_keeps_the_number_masked_in_the_trail(
    logged_in, archivist, make_record, export
):
    number = "360421196203110019"
    make_record(title="托管档案", person={"id_number": number, "name": "万平德"})
    make_record(title="别人的档案")
    rows = export(logged_in(archivist), {"q": number})
    assert [row[4] for row in rows[2:]] == ["托管档案"]
    trail = [str(e.detail) for e in AuditEvent.objects.exclude(action="read")]
    assert not any(number in text for text in trail)
    assert AuditEvent.objects.get(action="export").detail["rows"] == 1
