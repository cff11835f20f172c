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


def _sheet(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return list(book.active.iter_rows(values_only=True))


def test_export_writes_the_catalogue_of_the_current_selection(
    logged_in, archivist, make_record, tx
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
    rows = _sheet(
        logged_in(archivist).get(
            reverse("catalogue:record-export"), {"category": first.category_id, "sort": "code"}
        )
    )
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


def test_export_is_audited_with_filters_and_row_count(logged_in, archivist, make_record):
    make_record(title="甲")
    make_record(title="乙")
    _sheet(logged_in(archivist).get(reverse("catalogue:record-export"), {"year": 2001}))
    event = AuditEvent.objects.get(action="export")
    assert event.actor == archivist
    assert event.detail["rows"] == 2 and event.detail["filters"]["year"] == 2001


def test_export_holds_only_records_the_user_may_see(make_user, logged_in, make_record, tx):
    make_record(title="托管档案")
    make_record(title="退休档案", category=tx)
    rows = _sheet(
        logged_in(make_user(grants=[{"category": tx, "max_secrecy": 3}])).get(
            reverse("catalogue:record-export")
        )
    )
    assert [row[4] for row in rows[2:]] == ["退休档案"]
