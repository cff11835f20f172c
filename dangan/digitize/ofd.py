"""OFD (GB/T 33190, 版式文档): its text and its pages, read from the document's own XML.

An OFD is a ZIP: ``OFD.xml`` names the document (``DocBody/DocRoot``, e.g. ``Doc_0/Document.xml``),
which lists its pages (``Pages/Page@BaseLoc`` → ``Content.xml``) and its page size
(``CommonData/PageArea/PhysicalBox``, in millimetres), its fonts (``PublicRes.xml``) and its
images (``DocumentRes.xml``, ``MultiMedia/MediaFile``). A page's content is layers of text
objects (``TextObject``: a ``Boundary`` box, a font size, ``TextCode`` runs placed at X, Y
from the box's corner) and image objects (``ImageObject``: a box and an image resource).

The text, page by page in reading order (top to bottom, left to right), is what search reads.
The pages are drawn again as HTML — each run of text and each image at its place, in its size,
in the Chinese fonts of ``fonts-noto-cjk`` — and printed to a PDF/A-2b by ``dangan.pdf``:
the rendition the viewer shows. Vector drawings (``PathObject``: lines, stamps drawn as paths)
are not drawn; a seal kept as an image is. Nothing of the OFD is executed or fetched: entries
are read from the ZIP by name, never outside it, and its size was checked on the way in.
"""

import base64
import html
import posixpath
import zipfile
from dataclasses import dataclass, field

from lxml import etree

NS = "http://www.ofdspec.org/2016"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
#: The most pages drawn, and the most bytes one XML entry may unpack to.
MAX_PAGES = 2000
MAX_ENTRY_BYTES = 64 * 1024 * 1024
A4 = (210.0, 297.0)
_IMAGE_TYPES = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg"}


class OfdError(ValueError):
    """An OFD whose structure cannot be read; the message says where."""


@dataclass
class Run:
    x: float
    y: float
    size: float
    text: str
    bold: bool = False


@dataclass
class Image:
    x: float
    y: float
    width: float
    height: float
    data: bytes


@dataclass
class OfdPage:
    width: float
    height: float
    runs: list = field(default_factory=list)
    images: list = field(default_factory=list)

    @property
    def text(self) -> str:
        """The page's words in reading order: runs on one line (baselines within half a
        character) left to right, lines top to bottom."""
        lines: list[list[Run]] = []
        for run in sorted(self.runs, key=lambda r: (r.y, r.x)):
            if lines and abs(lines[-1][0].y - run.y) <= max(run.size, 1) / 2:
                lines[-1].append(run)
            else:
                lines.append([run])
        return "\n".join("".join(r.text for r in sorted(line, key=lambda r: r.x)) for line in lines)


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _numbers(text: str | None, count: int) -> list[float]:
    values = [float(v) for v in (text or "").split()[:count]]
    return values + [0.0] * (count - len(values))


class _Package:
    def __init__(self, source):
        try:
            self.zip = zipfile.ZipFile(source)
        except zipfile.BadZipFile as error:
            raise OfdError(f"not a ZIP: {error}") from None
        self.names = set(self.zip.namelist())

    def read(self, name: str) -> bytes:
        name = posixpath.normpath(name.lstrip("/"))
        if name not in self.names or name.startswith(".."):
            raise OfdError(f"{name} is not in the OFD")
        if self.zip.getinfo(name).file_size > MAX_ENTRY_BYTES:
            raise OfdError(f"{name} is too large")
        return self.zip.read(name)

    def xml(self, name: str):
        try:
            return etree.fromstring(self.read(name), _PARSER)
        except etree.XMLSyntaxError as error:
            raise OfdError(f"{name}: {error}") from None


def read_ofd(source) -> list[OfdPage]:
    """The pages of the first document of the OFD ``source`` (a path or a binary file)."""
    package = _Package(source)
    root = package.xml("OFD.xml")
    doc_root = root.findtext(f"{_q('DocBody')}/{_q('DocRoot')}")
    if not doc_root:
        raise OfdError("OFD.xml names no DocRoot")
    doc_root = doc_root.strip().lstrip("/")
    folder = posixpath.dirname(doc_root)
    document = package.xml(doc_root)
    common = document.find(_q("CommonData"))
    size = A4
    images = {}
    if common is not None:
        box = common.findtext(f"{_q('PageArea')}/{_q('PhysicalBox')}")
        if box:
            size = tuple(_numbers(box, 4)[2:4])
        for res in [*common.iterfind(_q("DocumentRes")), *common.iterfind(_q("PublicRes"))]:
            images |= _media(package, posixpath.join(folder, (res.text or "").strip()))
    pages = []
    for page in document.iterfind(f"{_q('Pages')}/{_q('Page')}"):
        if len(pages) >= MAX_PAGES:
            break
        location = posixpath.join(folder, (page.get("BaseLoc") or "").strip().lstrip("/"))
        pages.append(_page(package.xml(location), size, images))
    return pages


def _media(package, name: str) -> dict:
    """Image resources of one resource file: id → bytes (PNG or JPEG only)."""
    try:
        res = package.xml(name)
    except OfdError:
        return {}
    base = posixpath.join(posixpath.dirname(name), res.get("BaseLoc") or "")
    found = {}
    for media in res.iter(_q("MultiMedia")):
        location = (media.findtext(_q("MediaFile")) or "").strip()
        try:
            data = package.read(posixpath.join(base, location))
        except OfdError:
            continue
        if any(data.startswith(magic) for magic in _IMAGE_TYPES):
            found[media.get("ID")] = data
    return found


def _page(content, size, images) -> OfdPage:
    area = content.findtext(f"{_q('Area')}/{_q('PhysicalBox')}")
    width, height = tuple(_numbers(area, 4)[2:4]) if area else size
    page = OfdPage(width=width, height=height)
    for text_object in content.iter(_q("TextObject")):
        bx, by, _w, _h = _numbers(text_object.get("Boundary"), 4)
        font_size = float(text_object.get("Size") or 3.5)
        try:
            bold = int(text_object.get("Weight") or 400) >= 600
        except ValueError:
            bold = False
        for code in text_object.iterfind(_q("TextCode")):
            if code.text and code.text.strip():
                x, y = float(code.get("X") or 0), float(code.get("Y") or 0)
                page.runs.append(Run(bx + x, by + y, font_size, code.text, bold))
    for image in content.iter(_q("ImageObject")):
        data = images.get(image.get("ResourceID"))
        if data:
            x, y, w, h = _numbers(image.get("Boundary"), 4)
            page.images.append(Image(x, y, w, h, data))
    return page


def ofd_text(pages: list[OfdPage]) -> str:
    """The document's text, pages separated by a form feed (as ``pdftotext`` separates them)."""
    return "\n\f\n".join(page.text for page in pages)


def ofd_html(pages: list[OfdPage], *, title: str = "") -> str:
    """The pages drawn as HTML, one CSS page each at the OFD's size, for ``render_pdf``."""
    parts = [
        '<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>",
        "body{margin:0;font-family:'Noto Serif CJK SC','Noto Sans CJK SC',serif}",
        ".p{position:relative;overflow:hidden;break-after:page}",
        ".p span{position:absolute;white-space:pre;line-height:1}",
        ".p img{position:absolute}",
        "</style></head><body>",
    ]
    for number, page in enumerate(pages):
        parts.append(
            f"<style>@page p{number}{{size:{page.width}mm {page.height}mm;margin:0}}"
            f".p{number}{{page:p{number};width:{page.width}mm;height:{page.height}mm}}</style>"
            f'<div class="p p{number}">'
        )
        for image in page.images:
            mime = next(m for magic, m in _IMAGE_TYPES.items() if image.data.startswith(magic))
            data = base64.b64encode(image.data).decode()
            parts.append(
                f'<img src="data:{mime};base64,{data}" style="left:{image.x}mm;top:{image.y}mm;'
                f'width:{image.width}mm;height:{image.height}mm" alt="">'
            )
        for run in page.runs:
            weight = "font-weight:bold;" if run.bold else ""
            parts.append(
                f'<span style="left:{run.x}mm;top:{run.y - run.size * 0.88:.3f}mm;'
                f'font-size:{run.size}mm;{weight}">{html.escape(run.text)}</span>'
            )
        parts.append("</div>")
    parts.append("</body></html>")
    return "".join(parts)
