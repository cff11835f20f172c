"""OFD (GB/T 33190): text found by search and pages shown, read from the OFD's own XML; the
original kept byte for byte, its pages drawn again as a PDF/A-2b rendition."""

import io
import zipfile

import pikepdf
import pytest
from PIL import Image, ImageDraw

from dangan.content.models import Page, PreservationEvent
from dangan.content.selectors import open_blob
from dangan.content.services import add_files
from dangan.digitize import ofd, services
from dangan.digitize.models import PageProcessing
from dangan.search.selectors import search
from tests.pdf_glyphs import assert_pdfa_2b

NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'


def seal_png() -> bytes:
    image = Image.new("RGB", (120, 120), "white")
    ImageDraw.Draw(image).ellipse((5, 5, 115, 115), outline="red", width=6)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def make_ofd(pages: list[list[tuple[float, float, str]]]) -> bytes:
    """An OFD as a suite's writer lays it out: each page a list of (x, y, text) runs in mm; the
    first page also carries a seal image."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "OFD.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {NS} Version="1.1" DocType="OFD">'
            "<ofd:DocBody><ofd:DocInfo><ofd:DocID>x</ofd:DocID></ofd:DocInfo>"
            "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        )
        listed = "".join(
            f'<ofd:Page ID="{n + 10}" BaseLoc="Pages/Page_{n}/Content.xml"/>'
            for n in range(len(pages))
        )
        archive.writestr(
            "Doc_0/Document.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {NS}><ofd:CommonData>'
            "<ofd:MaxUnitID>99</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297"
            "</ofd:PhysicalBox></ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes>"
            "<ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes></ofd:CommonData>"
            f"<ofd:Pages>{listed}</ofd:Pages></ofd:Document>",
        )
        archive.writestr(
            "Doc_0/PublicRes.xml",
            f'<ofd:Res {NS} BaseLoc="Res"><ofd:Fonts><ofd:Font ID="1" FontName="宋体"/>'
            "</ofd:Fonts></ofd:Res>",
        )
        archive.writestr(
            "Doc_0/DocumentRes.xml",
            f'<ofd:Res {NS} BaseLoc="Res"><ofd:MultiMedias><ofd:MultiMedia ID="5" Type="Image">'
            "<ofd:MediaFile>seal.png</ofd:MediaFile></ofd:MultiMedia></ofd:MultiMedias></ofd:Res>",
        )
        archive.writestr("Doc_0/Res/seal.png", seal_png())
        for n, runs in enumerate(pages):
            objects = "".join(
                f'<ofd:TextObject ID="{20 + i}" Boundary="{x} {y - 5} 170 8" Font="1" Size="5">'
                f'<ofd:TextCode X="0" Y="5">{text}</ofd:TextCode></ofd:TextObject>'
                for i, (x, y, text) in enumerate(runs)
            )
            if n == 0:
                objects += '<ofd:ImageObject ID="90" Boundary="140 200 40 40" ResourceID="5"/>'
            archive.writestr(
                f"Doc_0/Pages/Page_{n}/Content.xml",
                f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {NS}><ofd:Content>'
                f'<ofd:Layer ID="2">{objects}</ofd:Layer></ofd:Content></ofd:Page>',
            )
    return buffer.getvalue()


LETTER = [
    [
        (20, 40, "关于罗凤秀同志退休待遇的批复"),
        (20, 60, "经研究，同意按月发放基本养老金。"),
        (30, 50, "县人社局"),
    ],
    [(20, 40, "附：养老金核定明细")],
]


def test_the_text_is_read_in_order_page_by_page():
    pages = ofd.read_ofd(io.BytesIO(make_ofd(LETTER)))
    assert [(p.width, p.height) for p in pages] == [(210.0, 297.0), (210.0, 297.0)]
    assert ofd.ofd_text(pages).split("\n") == [
        "关于罗凤秀同志退休待遇的批复",
        "县人社局",
        "经研究，同意按月发放基本养老金。",
        "\f",
        "附：养老金核定明细",
    ]
    assert len(pages[0].images) == 1


def test_a_broken_ofd_is_named_not_crashed_on():
    with pytest.raises(ofd.OfdError):
        ofd.read_ofd(io.BytesIO(b"PK\x05\x06" + bytes(18)))
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("OFD.xml", "<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'/>")
    with pytest.raises(ofd.OfdError, match="DocRoot"):
        ofd.read_ofd(broken)


@pytest.mark.django_db(transaction=True)
def test_an_ofd_is_kept_searchable_and_its_pages_shown_as_a_pdfa(make_record, archivist, client):
    record = make_record(title="退休待遇批复")
    data = make_ofd(LETTER)
    (page,) = add_files(actor=archivist, record=record, files=[("批复.ofd", io.BytesIO(data))])
    assert page.blob.format_name == "OFD"
    row = PageProcessing.objects.get(page=page)
    services.process_page(row.pk)
    row.refresh_from_db()
    assert row.state == "done", row.error
    assert "同意按月发放基本养老金" in row.text and row.engine == "ofd"
    assert [hit.record for hit in search(archivist, "按月发放基本养老金").hits] == [record]
    with open_blob(page.blob) as stream:
        assert stream.read() == data  # the original, byte for byte

    rendition = Page.objects.get(derived_from=page, role=Page.Role.RENDITION)
    with open_blob(rendition.blob) as stream:
        pdf = stream.read()
    assert_pdfa_2b(pdf)
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        assert len(opened.pages) == 2
        width_mm = float(opened.pages[0].mediabox[2]) / 72 * 25.4
        assert abs(width_mm - 210) < 1
    event = PreservationEvent.objects.get(page=page)
    assert event.outcome == "success" and event.agent.startswith("Dangan OFD reader")
    assert row.thumbnail_id and row.preview_id  # the viewer shows its pages
