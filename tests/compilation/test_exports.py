"""The compilation as a print-ready PDF (cover, contents, page numbers, sources) and as DOCX."""

import io
import subprocess

import docx
import pytest

from dangan.compilation import exports, selectors, services
from tests.pdf_glyphs import assert_chinese_glyphs

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic(archivist, leader, make_record):
    records = [
        make_record(
            title="关于调整企业退休人员基本养老金的通知", doc_number=f"县人社发〔2019〕{n}号"
        )
        for n in range(1, 6)
    ]
    book = services.create_compilation(
        actor=archivist,
        kind="topic",
        title="全县养老保险制度改革（1992—2024）",
        introduction="本汇编收录全县养老保险制度改革的主要文件。",
        compiled_by="县人社局档案室",
    )
    for n, record in enumerate(records):
        services.add_entry(
            actor=archivist,
            compilation=book,
            records=[record.pk],
            chapter="第一章 制度建立" if n < 2 else "第二章 待遇调整",
            text="摘录：按照省人社厅的部署，调整基本养老金。",
            note="原件藏县档案馆。",
        )
    services.approve_version(
        actor=leader, version=services.submit_version(actor=archivist, compilation=book)
    )
    book.refresh_from_db()
    return book, records


def pdf_text(pdf: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def test_the_pdf_has_a_cover_contents_page_numbers_and_every_cited_code(topic):
    book, records = topic
    out = io.BytesIO()
    exports.write_pdf(selectors.export_content(book), out)
    pdf = out.getvalue()
    assert_chinese_glyphs(pdf)
    pages = pdf_text(pdf).split("\f")
    assert "全县养老保险制度改革" in pages[0] and "Version 1, approved" in pages[0]
    assert "Contents" in pages[1] and "第二章 待遇调整" in pages[1]
    text = "\f".join(pages)
    for record in records:
        assert text.count(record.archival_code) >= 2  # at its entry and in the sources
    assert "Sources" in pages[-2] or "Sources" in pages[-1]
    # the page number printed at the foot of the last page
    assert pages[-2].strip().splitlines()[-1].strip() == str(len(pages) - 1)


def test_a_draft_says_so_on_its_cover(archivist, make_record):
    record = make_record()
    book = services.create_compilation(actor=archivist, kind="topic", title="未审专题")
    services.add_entry(actor=archivist, compilation=book, codes=[record.archival_code])
    out = io.BytesIO()
    exports.write_pdf(selectors.export_content(book), out)
    assert "Draft, not approved" in pdf_text(out.getvalue()).split("\f")[0]


def test_the_docx_opens_with_python_docx_and_lists_the_sources(topic):
    book, records = topic
    out = io.BytesIO()
    progress = []
    exports.write_docx(
        selectors.export_content(book), out, lambda done, total: progress.append((done, total))
    )
    document = docx.Document(io.BytesIO(out.getvalue()))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:2] == ["Contents", "Introduction"]
    assert "第一章 制度建立" in headings and "Sources" in headings
    codes = [row.cells[0].text for row in document.tables[0].rows[1:]]
    assert codes == sorted(r.archival_code for r in records)
    assert progress[-1] == (6, 6)


@pytest.mark.django_db(transaction=True)
def test_an_export_runs_in_the_background_with_progress_and_a_download(scheme, topic, logged_in):
    from dangan.jobs.models import Job
    from dangan.jobs.tasks import run_job_task

    book, records = topic
    archivist = book.created_by
    job = services.start_export(actor=archivist, compilation=book, format="pdf")
    assert job.state == Job.State.QUEUED
    assert run_job_task.call(job.pk) == Job.State.DONE
    job.refresh_from_db()
    assert (job.done, job.total) == (6, 6)
    client = logged_in(archivist)
    download = client.get(f"{job.get_absolute_url()}download/")
    text = pdf_text(b"".join(download.streaming_content))
    assert all(r.archival_code in text for r in records)


def test_a_topic_entry_prints_its_page_images_when_asked(archivist, make_record, tmp_path):
    from tests.compilation.test_exhibitions import with_preview

    record = make_record(title="附图的档案")
    with_preview(archivist, record)
    book = services.create_compilation(actor=archivist, kind="topic", title="附图专题")
    services.add_entry(actor=archivist, compilation=book, records=[record.pk], with_pages=True)
    content = selectors.export_content(book)
    pdf, document = io.BytesIO(), io.BytesIO()
    exports.write_pdf(content, pdf)
    exports.write_docx(content, document)
    (tmp_path / "c.pdf").write_bytes(pdf.getvalue())
    images = subprocess.run(
        ["pdfimages", "-list", str(tmp_path / "c.pdf")], capture_output=True, check=True, text=True
    ).stdout.splitlines()[2:]
    assert len(images) == 1 and images[0].split()[3:5] == ["600", "800"]
    assert len(docx.Document(io.BytesIO(document.getvalue())).inline_shapes) == 1
