"""Reading registers as they come: GBK text, title rows, merged cells, Excel date cells."""

import datetime

import openpyxl
import pytest

from dangan.catalogue.models import Record
from dangan.intake.registers import RegisterUnreadable
from dangan.intake.services import import_register, open_register


def test_csv_in_gbk_is_read(tmp_path, category, fonds):
    path = tmp_path / "register.csv"
    path.write_bytes(
        "失业人员托管登记\n序号,姓名,身份证号码,托管时间,档案编号\n"
        "1,萬平德,320925195701242920,1975年3月,G-1\n".encode("gbk")
    )

    report = import_register(actor=None, path=path, category=category, fonds=fonds)

    assert report.created == 1 and report.header_row == 2
    record = Record.objects.get(legacy_number="G-1")
    assert record.persons.get().name == "萬平德"
    assert record.metadata["custody_date"] == "1975-03"


def test_merged_cells_give_their_value_to_every_row_they_cover(tmp_path, category, fonds):
    path = tmp_path / "merged.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["失业人员档案托管花名册"])
    sheet.merge_cells("A1:E1")
    sheet.append(["姓名", "身份证号", "原工作单位", "托管日期", "档案号"])
    sheet.append(
        ["罗凤秀", "320925194304016802", "建湖县电机厂", datetime.datetime(1959, 9, 1), "M-1"]
    )
    sheet.append(["谭英娟", "320925194401267072", None, "1961.04", "M-2"])
    sheet.merge_cells("C3:C4")
    sheet.append([])
    sheet.append(["合计", "2人"])
    workbook.save(path)

    report = import_register(actor=None, path=path, category=category, fonds=fonds)

    assert report.created == 2 and report.blank_rows == 1
    assert report.skipped == [{"row": 6, "reason": "totals", "text": "合计"}]
    assert Record.objects.get(legacy_number="M-2").metadata["work_unit"] == "建湖县电机厂"
    assert Record.objects.get(legacy_number="M-1").metadata["custody_date"] == "1959-09-01"


def test_header_is_found_under_title_rows(tmp_path, category):
    path = tmp_path / "r.csv"
    path.write_text(
        "建湖县失业人员托管花名册\n填报单位：县就业处,,\n\n姓 名,公民身份号码,托管日期\n",
        encoding="utf-8",
    )

    register = open_register(path, category=category)

    assert register.header_row == 4
    assert register.headers == ["姓 名", "公民身份号码", "托管日期"]


@pytest.mark.parametrize(
    "content, name",
    [
        (b"\x00\x01 not a workbook", "broken.xlsx"),
        (b"just some text\nno header here\n", "plain.csv"),
        (b"whatever", "old.xls"),
    ],
)
def test_unreadable_file_is_refused(tmp_path, category, content, name):
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(RegisterUnreadable):
        open_register(path, category=category)


def test_numbered_empty_rows_are_blank_not_errors(tmp_path, category, fonds):
    path = tmp_path / "r.csv"
    path.write_text(
        "序号,姓名,身份证号,托管日期,档案号\n1,罗凤秀,320925194304016802,1959.09,B-1\n2,,,,\n3,,,,\n",
        encoding="utf-8",
    )

    report = import_register(actor=None, path=path, category=category, fonds=fonds)

    assert (report.created, report.blank_rows, report.errors) == (1, 2, [])
