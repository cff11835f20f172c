"""The watermark of a certified copy, drawn as shapes (the glyphs' outlines), never as text.

A watermark written as text ends up in the copy's text layer: ``pdftotext``, a screen reader or a
search index reads its words between the words of the page, and a copy's text can no longer be
taken for the record's. So every character is drawn as its outline, taken from Noto Sans CJK
(Debian's fonts-noto-cjk) by fontTools, as filled PDF paths: the eye sees the watermark, the text
layer holds only the record's own text.

The watermark is one form XObject the size of an A4 page: the text in a band at the top and the
bottom, and once large and faint across the page diagonally. ``copies.build_copy`` lays it over
every page, scaled to the page.
"""

import functools
import math

import pikepdf
from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTCollection

FONT_FILE = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
#: In Noto's collections face 2 is the simplified-Chinese one.
FONT_FACE = 2
A4 = (595.28, 841.89)
BAND_SIZE = 9
DIAGONAL_SIZE = 26
DIAGONAL_DEGREES = 35
RED = "0.78 0 0"


@functools.cache
def _font():
    font = TTCollection(FONT_FILE, lazy=True).fonts[FONT_FACE]
    return font, font.getGlyphSet(), font.getBestCmap(), font["hmtx"], font["head"].unitsPerEm


class _PdfPathPen(BasePen):
    """Writes a glyph's outline as PDF path operators (font units)."""

    def __init__(self, glyph_set):
        super().__init__(glyph_set)
        self.ops: list[str] = []

    def _moveTo(self, pt):
        self.ops.append(f"{pt[0]:g} {pt[1]:g} m")

    def _lineTo(self, pt):
        self.ops.append(f"{pt[0]:g} {pt[1]:g} l")

    def _curveToOne(self, pt1, pt2, pt3):
        self.ops.append(" ".join(f"{v:g}" for p in (pt1, pt2, pt3) for v in p) + " c")

    def _closePath(self):
        self.ops.append("h")


@functools.lru_cache(maxsize=4096)
def _glyph(char: str) -> tuple[str, int]:
    """The outline of ``char`` as path operators, and its advance width (font units)."""
    font, glyphs, cmap, hmtx, units = _font()
    name = cmap.get(ord(char))
    if name is None:
        return "", units // 2
    pen = _PdfPathPen(glyphs)
    glyphs[name].draw(pen)
    return " ".join(pen.ops), hmtx[name][0]


def _width(text: str) -> float:
    """The width of ``text`` at size 1."""
    return sum(_glyph(c)[1] for c in text) / _font()[4]


def _line(text: str, *, size: float, x: float, y: float, degrees: float = 0) -> str:
    """``text`` as filled outlines, its baseline starting at (x, y), turned by ``degrees``."""
    scale = size / _font()[4]
    cos, sin = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    parts = [
        f"q {cos * scale:.5f} {sin * scale:.5f} {-sin * scale:.5f} {cos * scale:.5f} "
        f"{x:.2f} {y:.2f} cm"
    ]
    advance = 0
    for char in text:
        path, width = _glyph(char)
        if path:
            parts.append(f"q 1 0 0 1 {advance} 0 cm {path} f Q")
        advance += width
    parts.append("Q")
    return "\n".join(parts)


def content_stream(text: str) -> str:
    """The watermark's drawing on an A4 page: bands at top and bottom, the diagonal between."""
    width, height = A4
    band = min(BAND_SIZE, (width - 40) / max(_width(text), 0.01))
    band_x = (width - _width(text) * band) / 2
    diagonal_room = math.hypot(width, height) * 0.8
    size = min(DIAGONAL_SIZE, diagonal_room / max(_width(text), 0.01))
    length = _width(text) * size
    angle = math.radians(DIAGONAL_DEGREES)
    # The diagonal line centred on the page's centre (its baseline a little below, so the
    # letters' middle is on the centre).
    start_x = width / 2 - math.cos(angle) * length / 2 + math.sin(angle) * size * 0.35
    start_y = height / 2 - math.sin(angle) * length / 2 - math.cos(angle) * size * 0.35
    return "\n".join(
        [
            f"q /Band gs {RED} rg",
            _line(text, size=band, x=band_x, y=height - 28),
            _line(text, size=band, x=band_x, y=20),
            "Q",
            f"q /Diagonal gs {RED} rg",
            _line(text, size=size, x=start_x, y=start_y, degrees=DIAGONAL_DEGREES),
            "Q",
        ]
    )


def form_xobject(pdf: pikepdf.Pdf, text: str) -> pikepdf.Stream:
    """The watermark as a form XObject of ``pdf``, to lay over its pages."""
    form = pikepdf.Stream(pdf, content_stream(text).encode("ascii"))
    form["/Type"] = pikepdf.Name.XObject
    form["/Subtype"] = pikepdf.Name.Form
    form["/BBox"] = [0, 0, *A4]
    form["/Resources"] = pikepdf.Dictionary(
        ExtGState=pikepdf.Dictionary(
            Band=pikepdf.Dictionary(Type=pikepdf.Name.ExtGState, ca=0.55, CA=0.55),
            Diagonal=pikepdf.Dictionary(Type=pikepdf.Name.ExtGState, ca=0.2, CA=0.2),
        )
    )
    return form
