"""Compilations (编研): citing only what the editor may read, partial dates, versions and the
leader's approval, the operator's commands."""

import io
import json
import subprocess

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from dangan.accounts.models import Secrecy, Unit
from dangan.audit.models import AuditEvent
from dangan.compilation import selectors, services
from dangan.compilation.models import Compilation

pytestmark = pytest.mark.django_db


def chronicle(archivist, title="县社保大事记"):
    return services.create_compilation(actor=archivist, kind="chronicle", title=title)


def test_a_chronicle_entry_keeps_the_precision_of_its_date(archivist, make_record):
    record = make_record(title="关于养老保险制度改革的通知")
    book = chronicle(archivist)
    year_only = services.add_entry(
        actor=archivist, compilation=book, date="1992", text="全县启动养老保险改革", codes=[]
    )
    month = services.add_entry(
        actor=archivist,
        compilation=book,
        date="1992年3月",
        text="县政府发文",
        codes=[record.archival_code],
    )
    assert (year_only.year, year_only.month, year_only.day) == (1992, None, None)
    assert (month.year, month.month, month.day) == (1992, 3, None)
    citation = month.citations.get()
    assert citation.archival_code == record.archival_code
    assert citation.record == record and citation.title == record.title


def test_a_date_that_does_not_exist_is_refused_and_nothing_is_stored(archivist):
    book = chronicle(archivist)
    with pytest.raises(ValidationError):
        services.add_entry(actor=archivist, compilation=book, date="1992-02-30", text="x")
    with pytest.raises(ValidationError):
        services.add_entry(actor=archivist, compilation=book, text="no date at all")
    assert not book.entries.exists()


def test_a_record_the_editor_may_not_read_cannot_be_cited(archivist, reader, make_record):
    secret = make_record(title="机密档案", secrecy=Secrecy.SECRET)
    other = make_record(title="内部档案")
    book = services.create_compilation(actor=reader, kind="topic", title="专题")
    for codes in ([secret.archival_code], [other.archival_code], ["NO-SUCH-CODE"]):
        with pytest.raises(ValidationError) as refused:
            services.add_entry(actor=reader, compilation=book, codes=codes)
        assert "No record you may read" in str(refused.value)
    with pytest.raises(ValidationError):
        services.add_entry(actor=reader, compilation=book, records=[other.pk])
    assert not book.entries.exists()
    # the same record, cited by an archivist who may read it
    services.add_entry(actor=archivist, compilation=book, records=[other.pk])
    assert book.entries.count() == 1


def test_only_archivists_edit_and_only_leaders_approve(archivist, leader, make_record):
    with pytest.raises(PermissionDenied):
        services.create_compilation(actor=leader, kind="topic", title="x")
    record = make_record()
    book = services.create_compilation(actor=archivist, kind="topic", title="养老保险改革专题")
    services.add_entry(actor=archivist, compilation=book, codes=[record.archival_code])
    version = services.submit_version(actor=archivist, compilation=book)
    with pytest.raises(PermissionDenied):
        services.approve_version(actor=archivist, version=version)
    services.approve_version(actor=leader, version=version)
    book.refresh_from_db()
    assert book.state == Compilation.State.APPROVED
    assert book.approved_version == version


def test_a_change_after_approval_is_a_draft_but_the_export_stays_the_approved_version(
    archivist, leader, make_record
):
    first, second = make_record(title="第一件"), make_record(title="第二件")
    book = services.create_compilation(actor=archivist, kind="topic", title="专题")
    services.add_entry(actor=archivist, compilation=book, codes=[first.archival_code])
    services.approve_version(
        actor=leader, version=services.submit_version(actor=archivist, compilation=book)
    )
    services.add_entry(actor=archivist, compilation=book, codes=[second.archival_code])
    book.refresh_from_db()
    assert book.state == Compilation.State.DRAFT
    content = selectors.export_content(book)
    assert content["approved"] and content["version"] == 1
    assert [e["citations"][0]["code"] for e in content["entries"]] == [first.archival_code]
    assert len(selectors.content_of(book)["entries"]) == 2


def test_reordering_and_sorting_a_chronicle_by_date(archivist):
    book = chronicle(archivist)
    late = services.add_entry(actor=archivist, compilation=book, date="2024-05-01", text="late")
    early = services.add_entry(actor=archivist, compilation=book, date="1992", text="early")
    mid = services.add_entry(actor=archivist, compilation=book, date="2001-03", text="mid")
    services.move_entry(actor=archivist, entry=mid, position=1)
    assert [e.text for e in book.entries.order_by("position")] == ["mid", "late", "early"]
    services.sort_chronicle(actor=archivist, compilation=book)
    assert [e.text for e in book.entries.order_by("position")] == ["early", "mid", "late"]
    services.remove_entry(actor=archivist, entry=early)
    assert list(book.entries.order_by("position").values_list("position", "text")) == [
        (1, "mid"),
        (2, "late"),
    ]
    assert late.pk in book.entries.values_list("pk", flat=True)


def test_an_organisational_history_starts_from_the_unit_tree(archivist):
    bureau = Unit.objects.create(code="B9", name="县人社局", kind=Unit.Kind.BUREAU)
    Unit.objects.create(code="B9-1", name="社保中心", kind=Unit.Kind.BUSINESS, parent=bureau)
    Unit.objects.create(code="B9-2", name="就业局", kind=Unit.Kind.BUSINESS, parent=bureau)
    history = services.start_org_history(actor=archivist, unit=bureau)
    rows = list(history.entries.order_by("position").values_list("name", "parent_name"))
    assert rows == [("县人社局", ""), ("社保中心", "县人社局"), ("就业局", "县人社局")]
    entry = history.entries.get(position=2)
    services.update_entry(
        actor=archivist, entry=entry, date="2010-07", end="2019-03", functions="社会保险经办"
    )
    entry.refresh_from_db()
    assert (entry.year, entry.month, entry.end_year, entry.end_month) == (2010, 7, 2019, 3)


def test_every_change_is_audited(archivist, leader, make_record):
    record = make_record()
    book = services.create_compilation(actor=archivist, kind="topic", title="专题")
    services.add_entry(actor=archivist, compilation=book, codes=[record.archival_code])
    services.approve_version(
        actor=leader, version=services.submit_version(actor=archivist, compilation=book)
    )
    events = AuditEvent.objects.filter(object_type="compilation.compilation", object_id=book.pk)
    assert events.filter(action="create").count() == 1
    assert events.filter(action="update").count() == 3
    assert events.filter(actor=leader).count() == 1


def test_the_list_command_prints_the_named_json_fields(archivist, make_record):
    record = make_record()
    book = services.create_compilation(actor=archivist, kind="topic", title="专题汇编一")
    services.add_entry(actor=archivist, compilation=book, codes=[record.archival_code])
    out = io.StringIO()
    call_command("compilation", "list", "--json", stdout=out)
    assert json.loads(out.getvalue()) == [
        {"id": book.pk, "kind": "topic", "title": "专题汇编一", "state": "draft", "entries": 1}
    ]


def test_the_export_command_writes_each_format(archivist, make_record, tmp_path):
    import docx
    import openpyxl

    records = [make_record(title=f"大事{n}") for n in range(3)]
    book = chronicle(archivist)
    for n, record in enumerate(records, start=1):
        services.add_entry(
            actor=archivist,
            compilation=book,
            date=f"199{n}-0{n}",
            text=f"第{n}件大事",
            codes=[record.archival_code],
        )
    for format in ("pdf", "docx", "xlsx"):
        call_command(
            "compilation",
            "export",
            str(book.pk),
            str(tmp_path / f"c.{format}"),
            "--format",
            format,
            stdout=io.StringIO(),
        )
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "c.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    for record in records:
        assert record.archival_code in text
    paragraphs = "\n".join(p.text for p in docx.Document(tmp_path / "c.docx").paragraphs)
    assert "第2件大事" in paragraphs
    sheet = openpyxl.load_workbook(tmp_path / "c.xlsx").active
    assert [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        r.archival_code for r in records
    ]
    assert (
        AuditEvent.objects.filter(
            object_type="compilation.compilation", object_id=book.pk, action="export"
        ).count()
        == 3
    )


def test_exporting_a_compilation_that_does_not_exist_says_so(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no compilation 999"):
        call_command("compilation", "export", "999", str(tmp_path / "x.pdf"), "--format", "pdf")
    assert not list(tmp_path.iterdir())
