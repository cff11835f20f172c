"""The register import as a user of it notices: what goes in, what is reported, what repeats."""

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dangan.accounts.models import Role
from dangan.audit.models import AuditEvent
from dangan.audit.services import verify_chain
from dangan.catalogue.models import Record
from dangan.intake.models import ImportJob
from dangan.intake.services import import_register
from dangan.people.models import Person

from .conftest import SAMPLE_BAD_ROWS, SAMPLE_DATA_ROWS


def run(path, category, fonds, **kwargs):
    return import_register(
        actor=kwargs.pop("actor", None), path=path, category=category, fonds=fonds, **kwargs
    )


def rewrite(path, edit):
    workbook = openpyxl.load_workbook(path)
    edit(workbook.active)
    workbook.save(path)


def test_sample_register_imports_every_valid_row(sample, category, fonds):
    report = run(sample, category, fonds)

    assert report.rows == SAMPLE_DATA_ROWS
    assert report.created == SAMPLE_DATA_ROWS - len(SAMPLE_BAD_ROWS)
    assert Record.objects.filter(category=category).count() == report.created
    assert {e.row for e in report.errors} == SAMPLE_BAD_ROWS
    assert {(e.column, e.code) for e in report.errors} == {("公民身份号码", "id_checksum")}
    assert all("*" in e.message for e in report.errors)  # the number is shown masked
    assert report.skipped == [{"row": 64, "reason": "totals", "text": "共计"}]
    assert report.header_row == 2
    assert verify_chain() == []


def test_records_are_filed_with_register_numbers_and_supplied_titles(sample, category, fonds):
    run(sample, category, fonds)

    record = Record.objects.get(category=category, legacy_number="SYTG-00001")
    assert record.state == Record.State.FILED
    assert record.archival_code == "A001-SYTG·1959-D50-0001"
    assert record.title == "[罗凤秀失业人员托管档案]"
    assert record.year == 1959 and record.date.isoformat() == "1959-09-01"
    assert record.responsible == fonds.name
    assert record.openness == "controlled"
    assert record.retention == category.default_retention
    assert record.metadata == {"work_unit": "建湖县第二轻工业公司", "custody_date": "1959-09-01"}
    assert list(record.persons.values_list("name", flat=True)) == ["罗凤秀"]
    legacy = set(Record.objects.values_list("legacy_number", flat=True))
    assert "SYTG-00060" in legacy and "SYTG-00058" not in legacy  # row 60 is a bad row


def test_text_dates_keep_their_precision(sample, category, fonds):
    run(sample, category, fonds)

    record = Record.objects.get(legacy_number="SYTG-00002")  # 托管日期 '1961.04'
    assert record.metadata["custody_date"] == "1961-04"
    assert record.date.isoformat() == "1961-04-01"
    assert Record.objects.get(legacy_number="SYTG-00008").metadata["custody_date"] == "1978-10"


def test_old_and_full_width_id_numbers_are_normalised(sample, category, fonds):
    run(sample, category, fonds)

    old = Person.objects.get(records__legacy_number="SYTG-00008")  # 320981550404885
    assert old.id_number == "320981195504048855"
    assert old.id_number_15 == "320981550404885"
    wide = Person.objects.get(records__legacy_number="SYTG-00021")  # full-width digits
    assert wide.id_number == "320902194104190350"


def test_traditional_name_is_kept_as_written(sample, category, fonds):
    run(sample, category, fonds)

    person = Person.objects.get(records__legacy_number="SYTG-00012")
    assert person.name == "萬平德"
    assert Record.objects.get(legacy_number="SYTG-00012").title == "[萬平德失业人员托管档案]"


def test_reimport_of_same_sheet_changes_nothing(sample, category, fonds):
    first = run(sample, category, fonds)
    records = list(Record.objects.order_by("id").values_list("id", "archival_code", "updated_at"))

    again = run(sample, category, fonds)

    assert again.created == 0 and again.updated == 0
    assert again.unchanged == first.created
    assert (
        list(Record.objects.order_by("id").values_list("id", "archival_code", "updated_at"))
        == records
    )


def test_a_register_read_in_a_second_process_gives_the_same_report(sample, category, fonds):
    def duplicate(sheet):  # a row entered twice, besides the sample's bad rows and totals
        sheet.insert_rows(10)
        for column in range(1, 10):
            sheet.cell(row=10, column=column, value=sheet.cell(row=9, column=column).value)

    rewrite(sample, duplicate)
    inline = run(sample, category, fonds, dry_run=True, read_ahead=False).as_dict()

    report = run(sample, category, fonds, read_ahead=True)

    read_ahead = report.as_dict()
    for key in ("seconds", "job", "dry_run"):
        inline.pop(key), read_ahead.pop(key)
    assert read_ahead == inline
    assert report.created == SAMPLE_DATA_ROWS - len(SAMPLE_BAD_ROWS)
    assert report.duplicates == [{"row": 10, "first_row": 9}]
    assert Record.objects.filter(category=category).count() == report.created


def test_dry_run_reports_the_same_and_writes_nothing(sample, category, fonds):
    dry = run(sample, category, fonds, dry_run=True)

    assert dry.created == SAMPLE_DATA_ROWS - len(SAMPLE_BAD_ROWS)
    assert {e.row for e in dry.errors} == SAMPLE_BAD_ROWS
    assert Record.objects.count() == 0 and Person.objects.count() == 0
    assert ImportJob.objects.count() == 0


def test_a_changed_cell_of_a_filed_record_is_held_until_an_archivist_confirms(
    sample, category, fonds, archivist
):
    run(sample, category, fonds)
    rewrite(sample, lambda sheet: sheet.cell(row=3, column=6, value="建湖县电机厂"))

    report = run(sample, category, fonds)

    assert (report.created, report.updated, report.held) == (0, 0, 1)
    assert report.unchanged == SAMPLE_DATA_ROWS - len(SAMPLE_BAD_ROWS) - 1
    record = Record.objects.get(legacy_number="SYTG-00001")
    assert record.metadata["work_unit"] == "建湖县第二轻工业公司"
    (held,) = report.changes
    assert (held["row"], held["status"], held["archival_code"]) == (
        3,
        "held",
        "A001-SYTG·1959-D50-0001",
    )
    assert held["fields"] == [
        {
            "field": "meta.work_unit",
            "label": "工作单位",
            "before": "建湖县第二轻工业公司",
            "after": "建湖县电机厂",
        }
    ]
    assert "confirmation" in held["reason"]

    with pytest.raises(ValidationError):  # a confirmation says why
        run(sample, category, fonds, actor=archivist, confirm_filed=True, reason=" ")
    report = run(
        sample, category, fonds, actor=archivist, confirm_filed=True, reason="单位更名，据调令"
    )

    assert (report.updated, report.held) == (1, 0)
    record.refresh_from_db()
    assert record.metadata["work_unit"] == "建湖县电机厂"
    assert record.archival_code == "A001-SYTG·1959-D50-0001"
    event = AuditEvent.objects.filter(
        object_type="catalogue.record", object_id=str(record.pk), action="update"
    ).get()
    assert (event.actor_name, event.detail) == (archivist.username, {"reason": "单位更名，据调令"})


def test_reimport_without_a_title_column_leaves_a_filed_title_alone(tmp_path, category, fonds):
    """The register has no title: the supplied [name…] title is for new records only."""
    from dangan.catalogue.services import update_record

    first = tmp_path / "first.csv"
    first.write_text(
        "姓名,身份证号,托管时间,工作单位\n张三,320925194304016802,1960.01,县纺织厂\n",
        encoding="utf-8",
    )
    run(first, category, fonds)
    record = Record.objects.get()
    assert record.title == "[张三失业人员托管档案]"
    update_record(actor=None, record=record, values={"title": "张三失业人员托管档案"})
    second = tmp_path / "second.csv"
    second.write_text(
        "姓名,身份证号,托管时间,工作单位\n张三,320925194304016802,1960.01,县印染厂\n",
        encoding="utf-8",
    )

    dry = run(second, category, fonds, dry_run=True)

    assert [f["field"] for change in dry.changes for f in change["fields"]] == ["meta.work_unit"]
    assert dry.changes[0]["status"] == "held"
    report = run(second, category, fonds)
    assert (report.updated, report.held) == (0, 1)
    record.refresh_from_db()
    assert (record.title, record.metadata["work_unit"]) == ("张三失业人员托管档案", "县纺织厂")


def test_row_entered_twice_is_reported_and_imported_once(sample, category, fonds):
    def duplicate(sheet):
        sheet.insert_rows(10)
        for column in range(1, 10):
            sheet.cell(row=10, column=column, value=sheet.cell(row=9, column=column).value)

    rewrite(sample, duplicate)

    report = run(sample, category, fonds)

    assert report.duplicates == [{"row": 10, "first_row": 9}]
    assert Record.objects.filter(legacy_number="SYTG-00007").count() == 1


@pytest.mark.parametrize("read_ahead", [False, True], ids=["inline", "read-ahead"])
def test_bad_rows_are_reported_with_their_reason(tmp_path, category, fonds, read_ahead):
    path = tmp_path / "bad.csv"
    path.write_text(
        "姓名,身份证号,性别,出生年月,托管时间,档案编号\n"
        "张三,320925194304016802,女,1943.04,1960.01,N1\n"  # fine
        ",320925194401267072,男,,1961.04,N2\n"  # no name
        "李四,320925194401267072,女,,1961.04,N3\n"  # sex contradicts the ID
        "王五,320925194912010594,男,1950.01,1969.07,N4\n"  # birth date contradicts the ID
        "赵六,320981194802091398,男,,1967.13,N5\n"  # no such month
        "孙七,320902194903286391,男,,,N6\n"  # no date at all
        "周八,320925194304016802,女,,1960.01,N7\n",  # ID of 张三 under another name
        encoding="utf-8",
    )

    report = run(path, category, fonds, read_ahead=read_ahead)

    assert report.created == 1
    assert {(e.row, e.column, e.code) for e in report.errors} == {
        (3, "姓名", "name_missing"),
        (4, "性别", "sex_mismatch"),
        (5, "出生年月", "birth_date_mismatch"),
        (6, "托管时间", "date_unreadable"),
        (7, "托管时间", "date_missing"),
        (8, "身份证号", "id_name_conflict"),
    }


def test_id_on_file_under_another_name_is_an_error(tmp_path, category, fonds, make_record):
    make_record(person={"id_number": "320925194304016802", "name": "别人"})
    path = tmp_path / "r.csv"
    path.write_text(
        "姓名,身份证号,托管日期,档案号\n罗凤秀,320925194304016802,1959.09,X1\n", encoding="utf-8"
    )

    report = run(path, category, fonds)

    assert report.created == 0
    assert [(e.row, e.code) for e in report.errors] == [(2, "id_name_conflict")]


def test_register_without_numbers_is_matched_by_person(tmp_path, category, fonds):
    path = tmp_path / "r.csv"
    path.write_text("姓名,身份证号,托管日期\n罗凤秀,320925194304016802,1959.09\n", encoding="utf-8")

    assert run(path, category, fonds).created == 1
    again = run(path, category, fonds)

    assert (again.created, again.unchanged) == (0, 1)


def test_retention_and_year_columns_are_read(tmp_path, category, fonds):
    path = tmp_path / "r.csv"
    path.write_text(
        "姓名,身份证号,年度,保管期限,页数,档案号\n"
        "罗凤秀,320925194304016802,1975,永久,12页,X1\n"
        "谭英娟,320925194401267072,1976,长期,3,X2\n"
        "江英秀,320925194912010594,1977,半永久,3,X3\n",
        encoding="utf-8",
    )

    report = run(path, category, fonds)

    assert [(e.row, e.code) for e in report.errors] == [(4, "retention_unreadable")]
    first = Record.objects.get(legacy_number="X1")
    assert (first.retention, first.year, first.page_count) == ("Y", 1975, 12)
    assert first.date.isoformat() == "1975-01-01"
    assert Record.objects.get(legacy_number="X2").retention == "D30"


def test_interrupted_import_continues_on_rerun(sample, category, fonds):
    run(sample, category, fonds, batch_size=10)
    Record.objects.filter(legacy_number__gt="SYTG-00030").delete()  # as if it stopped there

    report = run(sample, category, fonds, batch_size=10)

    assert report.created == 28 and report.unchanged == 28
    job = ImportJob.objects.order_by("-id").first()
    assert job.state == ImportJob.State.DONE and job.rows_done == SAMPLE_DATA_ROWS


def test_clerk_without_rights_cannot_import(sample, category, fonds, make_user):
    clerk = make_user(role=Role.READING_CLERK)

    with pytest.raises(PermissionDenied):
        run(sample, category, fonds, actor=clerk)

    assert Record.objects.count() == 0
