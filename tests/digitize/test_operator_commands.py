"""The operator's commands ``dangan attach CODE FILE... [--json]`` and ``dangan record CODE
[--json]``, run as an operator runs them, with real files and a real LibreOffice."""

import io
import json
import shutil
import zipfile

import pytest
from django.core.management import CommandError, call_command

from dangan.audit.models import AuditEvent
from dangan.catalogue import relations, volumes
from dangan.content.models import Page
from dangan.content.selectors import open_blob
from dangan.search.selectors import search

from .test_born_digital import word_document

needs_libreoffice = pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (libreoffice-writer-nogui) is missing"
)
ID_NUMBER = "320925194304016802"


def run(*args) -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command(*args, stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def macro_document(tmp_path):
    """A .docm: a Word document carrying a VBA project."""
    path = tmp_path / "带宏.docm"
    with zipfile.ZipFile(io.BytesIO(word_document("宏"))) as source:
        with zipfile.ZipFile(path, "w") as target:
            for item in source.infolist():
                target.writestr(item, source.read(item))
            target.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\0" * 500)
    return path


@needs_libreoffice
@pytest.mark.django_db(transaction=True)
def test_attach_keeps_a_word_document_with_its_rendition_and_refuses_a_macro(
    make_record, archivist, tmp_path
):
    record = make_record(title="退休待遇核定")
    document = tmp_path / "核定请示.docx"
    document.write_bytes(word_document("关于退休待遇核定的请示", "同意按月发放基本养老金。"))

    out, error = run(
        "attach",
        record.archival_code,
        str(document),
        str(macro_document(tmp_path)),
        "--json",
        "--wait",
    )
    kept, refused = json.loads(out)
    assert kept == {
        "file": "核定请示.docx",
        "state": "kept",
        "format": "DOCX",
        "puid": "fmt/412",
        "rendition": {"format": "PDF/A-2b", "state": "done"},
    }
    assert (refused["file"], refused["state"], refused["rendition"]) == (
        "带宏.docm",
        "refused",
        None,
    )
    assert "macros" in refused["reason"]
    assert error is not None and "1 of 2 files refused" in str(error)  # exit status 1

    (original,) = Page.objects.filter(record=record, role=Page.Role.ORIGINAL)
    with open_blob(original.blob) as stream:
        assert stream.read() == document.read_bytes()  # byte for byte
    assert [hit.record for hit in search(archivist, "按月发放基本养老金").hits] == [record]

    card = json.loads(run("record", record.archival_code, "--json")[0])
    assert [(f["name"], f["format"], f["puid"], f["role"]) for f in card["files"]] == [
        ("核定请示.docx", "DOCX", "fmt/412", "original"),
        ("核定请示.pdf", "PDF/A 2b", "fmt/477", "rendition"),
    ]


@pytest.mark.django_db
def test_attach_names_a_code_no_record_has(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(CommandError, match="No record has the number Z9-NONE"):
        call_command("attach", "Z9-NONE", str(tmp_path / "a.txt"), stdout=io.StringIO())


@pytest.mark.django_db
def test_attach_without_wait_leaves_the_rendition_to_the_worker_and_reports_unreadable_files(
    make_record, tmp_path
):
    record = make_record()
    document = tmp_path / "通知.docx"
    document.write_bytes(word_document("通知"))
    out, error = run(
        "attach", record.archival_code, str(document), str(tmp_path / "missing.pdf"), "--json"
    )
    kept, missing = json.loads(out)
    assert kept["rendition"] == {"format": "PDF/A-2b", "state": "pending"}
    assert missing["state"] == "refused" and "cannot be read" in missing["reason"]
    assert error is not None

    out, error = run("attach", record.archival_code, str(document))
    assert error is None and out.startswith("通知.docx: kept as DOCX (fmt/412)")


@pytest.mark.django_db
def test_record_shows_volume_items_relations_and_masks_id_numbers(make_record, archivist):
    volume = make_record(title="张卫国退休档案", level="volume")
    items = [
        make_record(
            title="退休审批表", level="item", person={"id_number": ID_NUMBER, "name": "罗凤秀"}
        ),
        make_record(title=f"身份证复印件 {ID_NUMBER}", level="item"),
    ]
    volumes.assemble_volume(actor=archivist, volume=volume, items=[items[1], items[0]])
    relations.link_records(actor=archivist, source=items[0], target=items[1], kind="attachment")

    card = json.loads(run("record", volume.archival_code, "--json")[0])
    assert (card["code"], card["level"], card["state"], card["volume"]) == (
        volume.archival_code,
        "volume",
        "filed",
        None,
    )
    assert card["items"] == [items[1].archival_code, items[0].archival_code]

    out = run("record", items[0].archival_code, "--json")[0]
    card = json.loads(out)
    assert card["volume"] == volume.archival_code and card["items"] == []
    assert [(r["kind"], r["code"]) for r in card["relations"]] == [
        ("attachment", items[1].archival_code)
    ]
    assert card["persons"] == [{"name": "罗凤秀", "id_number": "320925********6802"}]
    assert card["files"] == []

    other = json.loads(run("record", items[1].archival_code, "--json")[0])
    assert [(r["kind"], r["direction"], r["code"]) for r in other["relations"]] == [
        ("attachment", "in", items[0].archival_code)
    ]
    text = run("record", items[1].archival_code)[0] + out
    assert ID_NUMBER not in text and "320925********6802" in other["title"]
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.READ, object_id=str(items[0].pk), detail__via="dangan record"
    ).exists()


@pytest.mark.django_db
def test_pages_masks_id_numbers_in_the_page_text_and_audits_the_reading(make_record, archivist):
    from dangan.content.services import attach_blobs, keep_bytes
    from dangan.digitize.models import PageProcessing

    record = make_record(title=f"身份证复印件 {ID_NUMBER}")
    blob = keep_bytes(name="0001.txt", data="退休审批表".encode())
    (page,) = attach_blobs(actor=archivist, record=record, files=[(f"{ID_NUMBER}.txt", blob)])
    PageProcessing.objects.update_or_create(
        page=page, defaults={"state": "done", "text": f"姓名 罗凤秀\n公民身份号码 {ID_NUMBER}"}
    )

    out = run("pages", record.archival_code, "--json")[0]
    listing = json.loads(out)
    (row,) = listing["pages"]
    assert row["text"] == "姓名 罗凤秀\n公民身份号码 320925********6802"
    plain = run("pages", record.archival_code)[0]
    assert ID_NUMBER not in out + plain
    assert "320925********6802" in plain
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.READ, object_id=str(record.pk), detail__via="dangan pages"
    ).exists()
