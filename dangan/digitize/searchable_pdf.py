"""Searchable PDF/A (可检索的 PDF/A): the page images with the OCR text invisibly on top.

Each page is the scan itself, embedded without recompression (img2pdf), under a layer of
invisible text (rendering mode 3) placed line by line where the OCR read it, so that a reader
can search, select and copy, and ``pdftotext`` reads the page in order. The text uses a tiny
embedded font whose every glyph is blank: PDF/A wants fonts embedded, and a CJK font would cost
megabytes for glyphs no one sees. The file is written as PDF/A-2b and validated as it is saved
(pikepdf's PDF/A validator); a file that does not validate is never written.

Building the layer here, rather than running ``ocrmypdf``, reads each page once with whichever
engine is configured and avoids a Ghostscript pass per document.
"""

import io
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import img2pdf
import pikepdf

from dangan.digitize.image_checks import estimate_dpi
from dangan.digitize.ocr import PageText, TextLine, load_image

FONT_NAME = "DanganInvisible"
_UNITS_PER_EM = 1000


@dataclass(frozen=True)
class ScannedPage:
    """One page to put in the PDF: the image file as scanned, and what OCR read on it."""

    image: bytes  # JPEG, PNG or TIFF bytes as stored
    text: PageText
    dpi: float | None = None  # None: from the image's metadata, or its size taken as A4


def build_searchable_pdf(
    pages: Sequence[ScannedPage],
    *,
    title: str = "",
    destination: Path | io.BufferedIOBase | None = None,
) -> bytes | None:
    """Write the PDF/A-2b of ``pages`` to ``destination``, or return its bytes when None.

    Raises ``pikepdf.pdfa.PdfaError`` if the result would not be valid PDF/A-2b.
    """
    from pikepdf import pdfa

    images, sizes = [], []
    for page in pages:
        data, dpi = _embeddable(page)
        images.append(data)
        sizes.append(dpi)
    layout = _layout(sizes)
    pdf = pikepdf.open(io.BytesIO(img2pdf.convert(images, layout_fun=layout, engine=None)))
    font = _add_font(pdf)
    for pdf_page, page in zip(pdf.pages, pages, strict=True):
        _add_text_layer(pdf, pdf_page, page.text, font)
    with pdf.open_metadata() as meta:
        if title:
            meta["dc:title"] = title
        meta["xmp:CreatorTool"] = "Dangan"
    target = destination if destination is not None else io.BytesIO()
    pdfa.save(pdf, target, "2b")
    if destination is None:
        return target.getvalue()
    return None


def _embeddable(page: ScannedPage) -> tuple[bytes, float]:
    """Image bytes img2pdf takes as they are (JPEG, PNG without alpha), and their resolution."""
    picture = load_image(page.image)
    dpi = page.dpi or estimate_dpi(picture)[0]
    data = page.image
    # JPEG and PNG go in as they are; anything else (or an image that EXIF says to turn, or
    # with transparency, which PDF/A forbids) goes in as a lossless PNG of what OCR saw.
    if picture.mode in {"RGBA", "LA", "P", "PA"} or picture.format not in {"JPEG", "PNG"}:
        buffer = io.BytesIO()
        picture.convert("RGB" if picture.mode != "LA" else "L").save(buffer, format="PNG")
        data = buffer.getvalue()
    return data, dpi


def _layout(dpis: list[float]):
    """img2pdf's layout function, giving each page its own resolution."""
    remaining = list(dpis)

    def layout(image_width_px, image_height_px, ndpi):
        dpi = remaining.pop(0) if remaining else ndpi[0]
        width, height = image_width_px * 72 / dpi, image_height_px * 72 / dpi
        return width, height, width, height

    return layout


@cache
def _glyphless_font() -> bytes:
    """A TrueType font of one blank glyph, 1 em wide, for text no one is meant to see."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    builder = FontBuilder(_UNITS_PER_EM, isTTF=True)
    builder.setupGlyphOrder([".notdef", "blank"])
    builder.setupCharacterMap({0x20: "blank"})
    empty = TTGlyphPen(None).glyph()
    notdef = TTGlyphPen(None)
    for x, y in ((50, 0), (950, 0), (950, 800), (50, 800)):
        (notdef.moveTo if x == 50 and y == 0 else notdef.lineTo)((x, y))
    notdef.closePath()
    builder.setupGlyf({".notdef": notdef.glyph(), "blank": empty})
    builder.setupHorizontalMetrics({".notdef": (_UNITS_PER_EM, 50), "blank": (_UNITS_PER_EM, 0)})
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": FONT_NAME, "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=880, sTypoDescender=-120, usWinAscent=880, usWinDescent=120)
    builder.setupPost()
    buffer = io.BytesIO()
    builder.save(buffer)
    return buffer.getvalue()


def _to_unicode_cmap() -> bytes:
    """Code = the UTF-16 unit of the character; astral characters (rare in names) get the
    surrogate range D800–DFFF as their codes, mapped back through ``_astral`` entries."""
    ranges = [
        f"<{hi:02X}00> <{hi:02X}FF> <{hi:02X}00>" for hi in range(256) if not 0xD8 <= hi <= 0xDF
    ]
    blocks = []
    for start in range(0, len(ranges), 100):
        chunk = ranges[start : start + 100]
        blocks.append(f"{len(chunk)} beginbfrange\n" + "\n".join(chunk) + "\nendbfrange")
    return _cmap("\n".join(blocks))


def _cmap(body: str) -> bytes:
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{body}\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")


def _add_font(pdf: pikepdf.Pdf) -> pikepdf.Dictionary:
    font_file = pdf.make_stream(_glyphless_font())
    font_file.Length1 = len(_glyphless_font())
    # Every code shows glyph 1 (blank): a CID-to-GID map of 65,536 two-byte entries.
    cid_to_gid = pdf.make_stream(zlib.compress(b"\x00\x01" * 65536, 9))
    cid_to_gid.Filter = pikepdf.Name.FlateDecode
    descriptor = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.FontDescriptor,
            FontName=pikepdf.Name("/" + FONT_NAME),
            Flags=4,
            FontBBox=[0, -120, _UNITS_PER_EM, 880],
            ItalicAngle=0,
            Ascent=880,
            Descent=-120,
            CapHeight=700,
            StemV=80,
            FontFile2=font_file,
        )
    )
    descendant = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.CIDFontType2,
            BaseFont=pikepdf.Name("/" + FONT_NAME),
            CIDSystemInfo=pikepdf.Dictionary(Registry="Adobe", Ordering="Identity", Supplement=0),
            FontDescriptor=descriptor,
            DW=_UNITS_PER_EM,
            CIDToGIDMap=cid_to_gid,
        )
    )
    return pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.Type0,
            BaseFont=pikepdf.Name("/" + FONT_NAME),
            Encoding=pikepdf.Name("/Identity-H"),
            DescendantFonts=[descendant],
            ToUnicode=pdf.make_stream(_to_unicode_cmap()),
        )
    )


def _add_text_layer(
    pdf: pikepdf.Pdf, pdf_page: pikepdf.Page, text: PageText, font: pikepdf.Dictionary
) -> None:
    width_pt = float(pdf_page.mediabox[2])
    scale = width_pt / text.width  # points per pixel of the OCR'd image
    height_pt = text.height * scale
    operations = ["BT", "3 Tr"]
    for row in text.rows:
        for line in row:
            operations.extend(_show_line(line, scale, height_pt))
    operations.append("ET")
    layer = pdf.make_stream("\n".join(operations).encode("ascii"))
    resources = pdf_page.obj.get("/Resources")
    if resources is None:
        resources = pdf_page.obj.Resources = pikepdf.Dictionary()
    if "/Font" not in resources:
        resources.Font = pikepdf.Dictionary()
    resources.Font.FOcr = font
    pdf_page.contents_add(layer, prepend=False)


def _show_line(line: TextLine, scale: float, height_pt: float) -> list[str]:
    """Operators that put ``line`` over its box: baseline along the box's lower edge, the font
    as tall as the box, squeezed or stretched horizontally to the box's length."""
    chars = [c for c in line.text if ord(c) <= 0xFFFF and not 0xD800 <= ord(c) <= 0xDFFF]
    if not chars:
        return []
    (x0, y0), (x1, y1), _top_right, (x3, y3) = line.box
    length = math.hypot(x1 - x0, y1 - y0) * scale
    size = max(math.hypot(x3 - x0, y3 - y0) * scale, 1.0)
    angle = math.atan2(-(y1 - y0), x1 - x0)  # PDF's y grows upwards
    cos, sin = math.cos(angle), math.sin(angle)
    # Baseline a fifth of the height above the box's bottom-left corner.
    base_x = x3 * scale + 0.2 * size * -sin * -1
    base_y = height_pt - y3 * scale + 0.2 * size * cos
    stretch = 100 * length / (len(chars) * size)
    encoded = "".join(f"{ord(c):04X}" for c in chars)
    return [
        f"/FOcr {size:.2f} Tf {stretch:.2f} Tz",
        f"{cos:.5f} {sin:.5f} {-sin:.5f} {cos:.5f} {base_x:.2f} {base_y:.2f} Tm",
        f"<{encoded}> Tj",
    ]
