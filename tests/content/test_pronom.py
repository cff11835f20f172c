"""The PRONOM identifiers (PUIDs) we decide agree with opf-fido's on real files of each kind."""

import shutil
import subprocess

import docx
import openpyxl
import pytest
from PIL import Image

from dangan.content.formats import identify

fido = pytest.importorskip("fido.fido")


@pytest.fixture(scope="module")
def fido_puid():
    """opf-fido's PUID of a file, by signature only (never by its name), as its command does."""
    from fido import CONFIG_DIR
    from fido.versions import get_local_versions

    versions = get_local_versions(CONFIG_DIR)
    fido.defaults["containersignature_file"] = versions.pronom_container_signature
    found = []
    identifier = fido.Fido(
        quiet=True,
        format_files=[versions.pronom_signature, versions.fido_extension_signature],
        handle_matches=lambda name, matches, *_: found.extend(matches),
    )

    def puid(path) -> str:
        found.clear()
        identifier.identify_file(str(path), extension=False)
        return identifier.get_puid(found[0][0]) if found else ""

    return puid


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("formats")
    document = docx.Document()
    document.add_paragraph("社会保险登记表")
    document.save(folder / "a.docx")
    book = openpyxl.Workbook()
    book.active.append(["姓名", "金额"])
    book.save(folder / "b.xlsx")
    image = Image.new("RGB", (40, 40), "white")
    image.save(folder / "c.jpg")
    image.save(folder / "d.tif")
    image.save(folder / "e.jp2")
    made = [folder / name for name in ("a.docx", "b.xlsx", "c.jpg", "d.tif", "e.jp2")]
    if shutil.which("soffice"):
        profile = f"-env:UserInstallation={(folder / 'profile').as_uri()}"
        for source, target in (
            ("a.docx", "doc"),
            ("b.xlsx", "xls"),
            ("a.docx", "odt"),
            ("b.xlsx", "ods"),
            ("a.docx", "rtf"),
            ("a.docx", 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'),
        ):
            subprocess.run(
                ["soffice", "--headless", profile, "--convert-to", target, "--outdir", str(folder)]
                + [str(folder / source)],
                check=True,
                capture_output=True,
                timeout=120,
            )
            made.append(folder / f"{source.split('.')[0]}.{target.split(':')[0]}")
    return made


def test_our_puids_are_fidos(files, fido_puid):
    ours = {path.name: identify(path.name, path.read_bytes()).puid for path in files}
    theirs = {path.name: fido_puid(path) for path in files}
    assert ours == theirs
    assert ours["a.docx"] == "fmt/412" and ours["b.xlsx"] == "fmt/214"


def test_a_pdf_version_gives_its_puid():
    assert identify("a.pdf", b"%PDF-1.4\n%\xe2\xe3\n" + bytes(100) + b"\n%%EOF").puid == "fmt/18"
