"""Output of what a reader chose: ticked search results as a list (Excel, PDF), chosen pages of
a record as one watermarked PDF; each audited with what it held, refused for what may not be
copied; many at once through a background job."""

import hashlib
import io
import subprocess
import tempfile

import pikepdf
import pytest
from django.urls import reverse
from openpyxl import load_workbook

from dangan.accounts.models import Secrecy
from dangan.audit.models import AuditEvent
from dangan.content.services import add_files
from dangan.jobs import services as jobs
from dangan.jobs.models import Job
from dangan.pdf import render_pdf
from tests.pdf_glyphs import embedded_fonts, notdef_characters

from .conftest import scan_png

pytestmark = pytest.mark.django_db

WORDS = ["ALPHA", "BRAVO", "CHARLIE", "DELTA"]


def _pdf_text(pdf: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        return subprocess.run(
            ["pdftotext", file.name, "-"], capture_output=True, text=True, check=True
        ).stdout


def _red_pixels(pdf: bytes) -> int:
    """How many pixels of the first page, rendered at 50 dpi, are red (the watermark's ink)."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as folder:
        with open(f"{folder}/in.pdf", "wb") as file:
            file.write(pdf)
        subprocess.run(
            ["pdftoppm", "-r", "50", "-f", "1", "-l", "1", "-png", file.name, f"{folder}/p"],
            check=True,
        )
        (image,) = [Image.open(f"{folder}/{name}").convert("RGB") for name in _listing(folder)]
    data = image.tobytes()
    pixels = zip(data[0::3], data[1::3], data[2::3], strict=True)
    return sum(1 for r, g, b in pixels if r > 150 and r - g > 40 and r - b > 40)


def _listing(folder):
    import os

    return sorted(name for name in os.listdir(folder) if name.endswith(".png"))


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def _exports():
    return AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).order_by("id")


@pytest.fixture
def paged(make_record, archivist):
    """A record of four pages, each a PDF with one word on it."""
    record = make_record(actor=archivist, title="关于调整工资的通知")
    files = [
        (f"{n}.pdf", io.BytesIO(render_pdf(f"<p>PAGE {word}</p>")))
        for n, word in enumerate(WORDS, start=1)
    ]
    pages = add_files(actor=archivist, record=record, files=files)
    return record, sorted(pages, key=lambda p: p.position)


def test_the_chosen_pages_pdf_holds_exactly_the_chosen_pages_and_is_audited(
    paged, clerk, logged_in
):
    record, pages = paged
    client = logged_in(clerk)
    response = client.post(
        reverse("access:output-pages", args=[record.pk]),
        {"page": [pages[3].pk, pages[0].pk, pages[2].pk]},
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = _body(response)
    assert len(pikepdf.open(io.BytesIO(pdf)).pages) == 3
    text = _pdf_text(pdf)
    assert [w for w in WORDS if w in text] == ["ALPHA", "CHARLIE", "DELTA"]
    assert text.index("ALPHA") < text.index("CHARLIE") < text.index("DELTA")  # the record's order
    assert "李接待" not in text.replace(" ", "") and "not a certified copy" not in text
    event = _exports().get()
    assert event.actor == clerk and event.object_id == str(record.pk)
    assert event.detail["pages"] == [1, 3, 4]
    assert event.detail["page_sha256"] == [pages[i].blob.sha256 for i in (0, 2, 3)]
    assert event.detail["sha256"] == hashlib.sha256(pdf).hexdigest()


def test_the_chosen_pages_carry_the_readers_watermark_as_drawing(paged, clerk, logged_in):
    record, pages = paged
    pdf = _body(
        logged_in(clerk).post(
            reverse("access:output-pages", args=[record.pk]), {"page": [pages[1].pk]}
        )
    )
    assert _red_pixels(pdf) > 500  # the watermark is seen on the page (it is red) …
    assert _red_pixels(render_pdf("<p>PAGE BRAVO</p>")) == 0  # … the page alone has none
    assert "BRAVO" in _pdf_text(pdf)


def test_a_page_of_another_record_or_none_is_refused(
    paged, make_record, archivist, clerk, logged_in
):
    record, pages = paged
    other = make_record(actor=archivist)
    (foreign,) = add_files(actor=archivist, record=other, files=[("x.png", scan_png())])
    client = logged_in(clerk)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    url = reverse("access:output-pages", args=[record.pk])
    refused = client.post(url, {"page": [pages[0].pk, foreign.pk]}, follow=True)
    assert "not pages of this record" in refused.content.decode()
    nothing = client.post(url, {}, follow=True)
    assert "Choose at least one page" in nothing.content.decode()
    assert not _exports().exists()


def test_pages_of_a_secret_record_are_not_output(records, archivist, logged_in):
    secret = records["secret"]
    page = secret.pages.get()
    client = logged_in(archivist)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post(
        reverse("access:output-pages", args=[secret.pk]), {"page": [page.pk]}, follow=True
    )
    assert response["Content-Type"].startswith("text/html")
    assert "is secret" in response.content.decode()
    assert not _exports().exists()
    choose = client.get(reverse("access:choose-pages", args=[secret.pk])).content.decode()
    assert "is secret" in choose and 'name="page"' not in choose


def test_ticked_results_come_as_an_excel_list_audited_with_its_records(
    records, paged, clerk, logged_in
):
    record, _pages = paged
    chosen = [record.pk, records["open"].pk]
    response = logged_in(clerk).post(
        reverse("access:output-records"), {"record": chosen, "format": "xlsx"}
    )
    assert response.status_code == 200
    data = _body(response)
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == [record.archival_code, records["open"].archival_code]
    assert rows[1][1] == "关于调整工资的通知"
    event = _exports().get()
    assert event.detail["records"] == chosen
    assert event.detail["codes"] == [record.archival_code, records["open"].archival_code]
    assert event.detail["sha256"] == hashlib.sha256(data).hexdigest()


def test_the_pdf_list_prints_every_character(paged, clerk, logged_in):
    record, _pages = paged
    response = logged_in(clerk).post(
        reverse("access:output-records"), {"record": [record.pk], "format": "pdf"}
    )
    pdf = _body(response)
    assert "关于调整工资的通知" in _pdf_text(pdf)
    assert embedded_fonts(pdf) and notdef_characters(pdf) == []
    assert _exports().get().detail["output"] == "list.pdf"


def test_a_list_with_a_record_the_user_may_not_copy_or_see_is_refused_whole(
    records, make_user, logged_in
):
    reader = make_user(grants=({"max_secrecy": Secrecy.INTERNAL},))
    client = logged_in(reader)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    unseen = client.post(
        reverse("access:output-records"),
        {"record": [records["open"].pk, records["secret"].pk], "format": "xlsx"},
        follow=True,
    ).content.decode()
    assert "1 of the chosen records were not found" in unseen
    assert records["secret"].archival_code not in unseen  # not named: not the reader's to know
    archivist_client = logged_in(make_user())
    archivist_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    refused = archivist_client.post(
        reverse("access:output-records"),
        {"record": [records["open"].pk, records["secret"].pk], "format": "pdf"},
        follow=True,
    ).content.decode()
    assert "Nothing was output" in refused and records["secret"].archival_code in refused
    assert not _exports().exists()


def test_many_records_are_listed_by_a_background_job(
    records, clerk, logged_in, monkeypatch, settings, tmp_path
):
    from dangan.access import outputs

    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(outputs, "AT_ONCE_RECORDS", 1)
    chosen = [r.pk for r in (records["open"], records["controlled"])]
    client = logged_in(clerk)
    response = client.post(reverse("access:output-records"), {"record": chosen, "format": "xlsx"})
    job = Job.objects.get(owner=clerk)
    assert response.status_code == 302 and response.url == job.get_absolute_url()
    assert not _exports().exists()  # nothing handed out yet
    assert jobs.run_job(job.pk) == Job.State.DONE
    data = jobs.result_path(job).read_bytes()
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert len(rows) == 3
    event = _exports().get()
    assert event.actor == clerk and event.detail["records"] == chosen


def test_the_search_page_offers_the_ticks_and_the_record_its_pages(paged, clerk, logged_in):
    record, pages = paged
    client = logged_in(clerk)
    found = client.get(reverse("search:search"), {"q": "调整工资"}).content.decode()
    assert f'name="record" value="{record.pk}"' in found
    assert reverse("access:output-records") in found
    choose = client.get(
        reverse("access:choose-pages", args=[record.pk]), {"page": pages[1].pk}
    ).content.decode()
    assert choose.count('name="page"') == 4
    assert f'value="{pages[1].pk}" checked' in choose
