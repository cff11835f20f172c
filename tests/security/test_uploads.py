"""What an upload may unpack to, PDFs that act, images that explode, folders that lead out."""

import io
import os
import zipfile

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from dangan.content.formats import identify
from dangan.security.archives import check_zip
from dangan.security.folders import UnsafePath, safe_walk


def _zip(members: dict[str, bytes]) -> io.BytesIO:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    data.seek(0)
    return data


def test_an_ordinary_xlsx_passes_the_zip_check(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["姓名", "公民身份号码"])
    path = tmp_path / "register.xlsx"
    book.save(path)
    check_zip(path)
    with open(path, "rb") as f:
        check_zip(f)
        assert f.tell() == 0  # left where it was, for the reader after us


def test_a_zip_bomb_is_refused_without_unpacking_it(settings):
    settings.DANGAN_ZIP_LIMITS = {"members": 100, "unpacked_bytes": 50 * 1024**2, "ratio": 100}
    bomb = _zip({"xl/worksheets/sheet1.xml": b"0" * (20 * 1024 * 1024)})  # ratio ~1000
    with pytest.raises(ValidationError) as refused:
        check_zip(bomb, name="托管花名册.xlsx")
    assert refused.value.code == "zip_bomb" and "托管花名册.xlsx" in refused.value.messages[0]
    many = _zip({f"f{n}.xml": b"x" for n in range(101)})
    with pytest.raises(ValidationError):
        check_zip(many)


def test_a_file_that_is_no_zip_is_refused():
    with pytest.raises(ValidationError) as refused:
        check_zip(io.BytesIO(b"not a zip at all"))
    assert refused.value.code == "not_zip"


def test_pillow_refuses_decompression_bombs(settings):
    assert Image.MAX_IMAGE_PIXELS == settings.DANGAN_MAX_IMAGE_PIXELS
    data = io.BytesIO()
    Image.new("1", (4000, 4000)).save(data, "PNG")
    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = 1_000_000
    try:
        with pytest.raises(Image.DecompressionBombError):
            Image.open(io.BytesIO(data.getvalue())).load()
    finally:
        Image.MAX_IMAGE_PIXELS = old


PDF = (
    b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R ACTIVE >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF"
)


@pytest.mark.parametrize(
    "active",
    [
        b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>",
        b"/OpenAction << /S /Launch /F (cmd.exe) >>",
        b"/Names << /EmbeddedFiles 3 0 R >>",
    ],
)
def test_pdfs_with_active_content_are_refused(active):
    with pytest.raises(ValidationError) as refused:
        identify("report.pdf", PDF.replace(b"ACTIVE", active))
    assert refused.value.code == "format_active_pdf"


def test_a_pdf_that_only_opens_at_a_page_is_kept():
    assert identify("scan.pdf", PDF.replace(b"ACTIVE", b"/OpenAction [3 0 R /Fit]")).name == "PDF"


def test_safe_walk_yields_the_files_inside_the_folder(tmp_path):
    (tmp_path / "box1").mkdir()
    (tmp_path / "box1" / "0001.tif").write_bytes(b"x")
    (tmp_path / "0002.pdf").write_bytes(b"x")
    os.symlink(tmp_path / "box1" / "0001.tif", tmp_path / "link-inside.tif")
    found = [p.relative_to(tmp_path).as_posix() for p in safe_walk(tmp_path)]
    assert found == ["0002.pdf", "box1/0001.tif", "box1/0001.tif"]


def test_safe_walk_refuses_links_that_lead_out(tmp_path):
    root = tmp_path / "scans"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("x")
    os.symlink(tmp_path / "secret.txt", root / "escape.tif")
    with pytest.raises(UnsafePath):
        list(safe_walk(root))
    os.remove(root / "escape.tif")
    os.symlink(tmp_path, root / "up")
    with pytest.raises(UnsafePath):
        list(safe_walk(root))


def test_safe_walk_refuses_pipes_and_broken_links(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(UnsafePath):
        list(safe_walk(tmp_path))
    os.remove(tmp_path / "pipe")
    os.symlink(tmp_path / "missing", tmp_path / "dangling")
    with pytest.raises(UnsafePath):
        list(safe_walk(tmp_path))
