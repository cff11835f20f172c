import io
import shutil
import subprocess

import pikepdf
import pytest
from pikepdf import pdfa

from dangan.digitize.searchable_pdf import ScannedPage, build_searchable_pdf
from dangan.digitize.specimens import character_accuracy

needs_pdftotext = pytest.mark.skipif(
    not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) is not installed"
)


@pytest.fixture(scope="module")
def two_page_pdf(sample_truth, sample_pages):
    pages = [
        ScannedPage(image=sample_truth[folder][0], text=sample_pages[folder])
        for folder in ("SYTG-00001", "SYTG-00003")
    ]
    return build_searchable_pdf(pages, title="失业人员档案托管登记表")


def _pdftotext(pdf: bytes, page: int) -> str:
    return subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")


@needs_pdftotext
def test_text_layer_is_extracted_in_reading_order(two_page_pdf, sample_truth):
    for number, folder in ((1, "SYTG-00001"), (2, "SYTG-00003")):
        extracted = _pdftotext(two_page_pdf, number)
        assert character_accuracy(sample_truth[folder][1], extracted) >= 0.97
    first = "".join(_pdftotext(two_page_pdf, 1).split())
    assert first.index("罗凤秀") < first.index("320925194304016802") < first.index("1993年4月12日")
    assert "建湖縣農機修造廠" in _pdftotext(two_page_pdf, 2)


def test_pdf_is_valid_pdf_a_2b(two_page_pdf):
    report = pdfa.validate_written(io.BytesIO(two_page_pdf), "2b")
    assert report.passed, report
    with pikepdf.open(io.BytesIO(two_page_pdf)) as pdf, pdf.open_metadata() as meta:
        assert meta.pdfa_status == "2B"
        assert meta["dc:title"] == "失业人员档案托管登记表"


def test_scans_are_embedded_as_they_are_at_a4_size(two_page_pdf, sample_truth):
    with pikepdf.open(io.BytesIO(two_page_pdf)) as pdf:
        assert len(pdf.pages) == 2
        page = pdf.pages[0]
        width, height = float(page.mediabox[2]), float(page.mediabox[3])
        assert abs(width - 595.3) < 1 and abs(height - 842) < 1  # A4 in points, from 200 dpi
        (image,) = page.get_images().values()
        assert image.Filter == pikepdf.Name.DCTDecode  # the JPEG, not recompressed
        assert image.read_raw_bytes() == sample_truth["SYTG-00001"][0]


@needs_pdftotext
def test_page_without_text_still_makes_a_valid_pdf(engine):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", (827, 1170), (255, 255, 255, 0)).save(buffer, format="PNG", dpi=(100, 100))
    page = ScannedPage(image=buffer.getvalue(), text=engine.recognize(buffer.getvalue()))
    pdf = build_searchable_pdf([page])
    assert pdfa.validate_written(io.BytesIO(pdf), "2b").passed
    assert _pdftotext(pdf, 1).strip() == ""
