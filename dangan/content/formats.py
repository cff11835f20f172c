"""Format identification by content (magic bytes), never by the file's name.

The archive keeps the formats of long-term preservation (GB/T 18894, DA/T 47): images in TIFF,
JPEG, JPEG 2000 and PNG; documents in PDF (PDF/A preferred) and OFD (GB/T 33190); sound in WAV
and MP3; video in MP4. Everything else is refused with a message that names the file and says
why: a program, a script, a web page, an encrypted PDF or a ZIP archive is never kept.

``Identifier`` is fed the bytes as they stream past (the same pass that digests and stores
them), so a 1 GB PDF is identified without being held in memory. A PDF is also spooled to a
temporary file and opened with pikepdf (qpdf) at the end: active content — scripts, launched
programs, attached files, rich media, XFA forms — hides in compressed object streams and in
escaped names (``/J#61vaScript``) that no scan of the raw bytes sees, while a raw scan of a
large scan's compressed images finds "/JS" by chance. The raw scan decides only for a file
qpdf cannot parse at all.
"""

import re
import struct
import tempfile
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

#: How many leading bytes decide the format (PDF allows its header within the first 1024).
HEAD_BYTES = 8192
#: How much of the end of a ZIP is kept to read its central directory.
ZIP_TAIL_BYTES = 1024 * 1024


@dataclass(frozen=True)
class FileFormat:
    """What a file is: a name (with version, where the format has one) and its MIME type."""

    name: str
    mime: str
    version: str = ""

    def __str__(self):
        return f"{self.name} {self.version}".strip()


REFUSALS = {
    "empty": _("“%(name)s” is empty."),
    "executable": _("“%(name)s” is a program (%(kind)s); the archive does not keep programs."),
    "script": _("“%(name)s” is a script; the archive does not keep scripts."),
    "html": _(
        "“%(name)s” is a web page or SVG drawing (%(kind)s), which can carry scripts; "
        "save it as PDF and upload the PDF."
    ),
    "encrypted_pdf": _(
        "“%(name)s” is an encrypted PDF: the archive must be able to read it without a "
        "password. Remove the password and upload it again."
    ),
    "active_pdf": _(
        "“%(name)s” is a PDF with active content (%(kind)s): scripts, launched programs or "
        "attached files are not kept. Print it to a new PDF (or PDF/A) and upload that."
    ),
    "not_ofd": _("“%(name)s” is a ZIP archive, not an OFD document; upload the files it contains."),
    "unknown": _(
        "“%(name)s” is not in a format the archive keeps "
        "(TIFF, JPEG, JPEG 2000, PNG, PDF, OFD, WAV, MP3 or MP4)."
    ),
}

_EXECUTABLES = [
    (b"MZ", "Windows"),
    (b"\x7fELF", "ELF"),
    (b"\xca\xfe\xba\xbe", "Mach-O / Java"),
    (b"\xfe\xed\xfa\xce", "Mach-O"),
    (b"\xfe\xed\xfa\xcf", "Mach-O"),
    (b"\xce\xfa\xed\xfe", "Mach-O"),
    (b"\xcf\xfa\xed\xfe", "Mach-O"),
    (b"dex\n", "Android"),
]
_MARKUP = [b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe", b"<svg"]
_MP4_BRANDS = {
    b"isom",
    b"iso2",
    b"iso4",
    b"iso5",
    b"iso6",
    b"mp41",
    b"mp42",
    b"avc1",
    b"M4V ",
    b"M4A ",
    b"dash",
    b"mmp4",
    b"f4v ",
}
_PDF_HEADER = re.compile(rb"%PDF-(\d\.\d)")
_PDFA_PART = re.compile(rb"pdfaid:part(?:\s*=\s*[\"']|>)\s*(\d)")
_PDFA_CONFORMANCE = re.compile(rb"pdfaid:conformance(?:\s*=\s*[\"']|>)\s*([A-Za-z])")
_SCAN_OVERLAP = 64
#: PDF names that make a document act (run script, start a program, carry other files).
#: /OpenAction alone only opens a page; an action it names is one of these.
_PDF_ACTIVE = re.compile(
    rb"/(JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA|GoToE|ImportData)(?![A-Za-z0-9])"
)
#: Keys that carry active content wherever they appear (pikepdf's check).
_ACTIVE_KEYS = {"/JS", "/JavaScript", "/EmbeddedFiles", "/EmbeddedFile", "/RichMedia", "/XFA"}
#: Actions (``/S``) that act: run script, start a program, open an attached or other file,
#: send or import form data, play rich media. /GoTo, /URI, /Named and the like only move.
_ACTIVE_ACTIONS = {
    "/JavaScript",
    "/Launch",
    "/GoToE",
    "/GoToR",
    "/ImportData",
    "/SubmitForm",
    "/RichMediaExecute",
    "/Rendition",
    "/Movie",
    "/Sound",
}
#: Object types and annotation subtypes that are active content in themselves.
_ACTIVE_TYPES = {"/EmbeddedFile", "/RichMedia", "/FileAttachment", "/3D"}
#: A PDF up to this size is spooled in memory, a larger one in a temporary file.
PDF_SPOOL_MEMORY = 8 * 1024 * 1024


def pdf_active_content(source) -> str | None:
    """The first active content pikepdf finds in a PDF (a path or a binary file), e.g.
    "/JavaScript", or None. Every object is looked at, those in object streams included;
    qpdf decodes escaped names. ``pikepdf.PdfError`` when the file cannot be parsed."""
    import pikepdf

    with pikepdf.open(source) as pdf:
        root = pdf.Root
        if "/AcroForm" in root and "/XFA" in root.AcroForm:
            return "/XFA"
        seen = set()
        for obj in pdf.objects:
            found = _active_in(obj, seen, depth=0)
            if found:
                return found
    return None


def _active_in(obj, seen, depth) -> str | None:
    import pikepdf

    if depth > 50:
        return None
    if obj.is_indirect:
        ident = obj.objgen
        if ident in seen:
            return None
        seen.add(ident)
    if isinstance(obj, pikepdf.Array):
        for item in obj:
            if isinstance(item, pikepdf.Dictionary | pikepdf.Array) and not item.is_indirect:
                found = _active_in(item, seen, depth + 1)
                if found:
                    return found
        return None
    if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
        return None
    keys = set(obj.keys())
    for key in keys & _ACTIVE_KEYS:
        return key
    for key in ("/Type", "/Subtype"):
        value = obj.get(key)
        if isinstance(value, pikepdf.Name) and str(value) in _ACTIVE_TYPES:
            return str(value)
    action = obj.get("/S")
    if isinstance(action, pikepdf.Name) and str(action) in _ACTIVE_ACTIONS:
        return str(action)
    if "/EF" in keys:  # a file specification with the file inside
        return "/EmbeddedFile"
    for key in keys:
        value = obj.get(key)
        if isinstance(value, pikepdf.Dictionary | pikepdf.Array) and not value.is_indirect:
            found = _active_in(value, seen, depth + 1)
            if found:
                return found
    return None


class Identifier:
    """Identifies one file from its bytes, fed in order; refuses as early as it can.

    ``feed`` raises ``ValidationError`` as soon as the head shows a refused format, so a
    program is turned away after its first chunk; ``finish`` returns the ``FileFormat``.
    """

    def __init__(self, filename: str):
        self.filename = filename
        self._head = b""
        self._kind = None  # decided from the head: "pdf", "zip" or a final FileFormat
        self._carry = b""  # the end of the previous chunk, for patterns across a boundary
        self._size = 0
        self._pdf_encrypted = False
        self._pdf_active = b""
        self._pdfa_part = self._pdfa_conformance = b""
        self._pdf_spool = None
        self._zip_tail = b""

    def feed(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._kind is None:
            seen = self._head + chunk  # every byte so far: the head was not full before
            self._head = seen[:HEAD_BYTES]
            if len(self._head) == HEAD_BYTES:
                self._decide(seen)
            return
        if self._kind == "pdf":
            self._scan_pdf(chunk)
        elif self._kind == "zip":
            self._zip_tail = (self._zip_tail + chunk)[-ZIP_TAIL_BYTES:]

    @property
    def needs_more(self) -> bool:
        """Whether later bytes can still change the answer (the head is not full yet, or a PDF
        or ZIP is read to its end); a caller that only identifies may stop feeding when not."""
        return self._kind is None or self._kind in ("pdf", "zip")

    def finish(self) -> FileFormat:
        if self._kind is None:
            if not self._head:
                self._refuse("empty")
            self._decide(self._head)
        if self._kind == "pdf":
            return self._pdf_format()
        if self._kind == "zip":
            return self._ofd_format()
        return self._kind

    # --- deciding from the head ---------------------------------------------------------------
    def _decide(self, seen: bytes):
        head = self._head
        for magic, kind in _EXECUTABLES:
            if head.startswith(magic):
                self._refuse("executable", kind=kind)
        known = _identify_head(head)
        if known in ("pdf", "zip"):
            self._kind = known
            if known == "pdf":
                self._scan_pdf(seen)
            else:
                self._zip_tail = seen[-ZIP_TAIL_BYTES:]
            return
        if known is not None:
            self._kind = known
            return
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if text.startswith(b"#!") or text.startswith(b"<?php"):
            self._refuse("script")
        for tag in _MARKUP:
            if text.startswith(tag) or (text.startswith(b"<?xml") and tag in text[:2048]):
                self._refuse("html", kind=tag.decode().lstrip("<!"))
        self._refuse("unknown")

    def _refuse(self, code, **params):
        raise ValidationError(
            REFUSALS[code], code=f"format_{code}", params={"name": self.filename, **params}
        )

    # --- PDF ------------------------------------------------------------------------------------
    def _scan_pdf(self, chunk):
        if self._pdf_spool is None:
            self._pdf_spool = tempfile.SpooledTemporaryFile(max_size=PDF_SPOOL_MEMORY)
        self._pdf_spool.write(chunk)
        window = self._carry + chunk
        if b"/Encrypt" in window:
            self._pdf_encrypted = True
        if not self._pdf_active and (match := _PDF_ACTIVE.search(window)):
            self._pdf_active = match.group(1)
        if not self._pdfa_part and (match := _PDFA_PART.search(window)):
            self._pdfa_part = match.group(1)
        if not self._pdfa_conformance and (match := _PDFA_CONFORMANCE.search(window)):
            self._pdfa_conformance = match.group(1).upper()
        self._carry = window[-_SCAN_OVERLAP:]

    def _pdf_format(self) -> FileFormat:
        if self._pdf_encrypted:
            self._close_spool()
            self._refuse("encrypted_pdf")
        active = self._pdf_active_content()
        if active:
            self._refuse("active_pdf", kind=active)
        if self._pdfa_part:
            version = (self._pdfa_part + self._pdfa_conformance).decode().lower()
            return FileFormat("PDF/A", "application/pdf", version)
        match = _PDF_HEADER.search(self._head[:1024])
        return FileFormat("PDF", "application/pdf", match.group(1).decode())

    def _pdf_active_content(self) -> str | None:
        """What pikepdf finds in the spooled file; the raw scan's finding if qpdf cannot
        parse it (a damaged or truncated file)."""
        import pikepdf

        try:
            self._pdf_spool.seek(0)
            return pdf_active_content(self._pdf_spool)
        except (pikepdf.PdfError, ValueError, RecursionError):
            return "/" + self._pdf_active.decode() if self._pdf_active else None
        finally:
            self._close_spool()

    def _close_spool(self):
        if self._pdf_spool is not None:
            self._pdf_spool.close()
            self._pdf_spool = None

    # --- OFD: a ZIP whose root holds OFD.xml -----------------------------------------------------
    def _ofd_format(self) -> FileFormat:
        if b"OFD.xml" in _zip_names(self._head, self._zip_tail, self._size):
            return FileFormat("OFD", "application/ofd")
        self._refuse("not_ofd")


def _identify_head(head: bytes):
    """The format a file's first bytes show, "pdf"/"zip" to be settled later, or None."""
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return FileFormat("TIFF", "image/tiff", "6.0")
    if head.startswith((b"II+\x00", b"MM\x00+")):
        return FileFormat("TIFF", "image/tiff", "BigTIFF")
    if head.startswith(b"\xff\xd8\xff"):
        return FileFormat("JPEG", "image/jpeg")
    if head.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n"):
        return FileFormat("JPEG 2000", "image/jp2")
    if head.startswith(b"\xff\x4f\xff\x51"):
        return FileFormat("JPEG 2000", "image/j2k", "codestream")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileFormat("PNG", "image/png")
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return FileFormat("WAV", "audio/wav")
    if head.startswith(b"ID3") or _is_mp3_frame(head):
        return FileFormat("MP3", "audio/mpeg")
    if head[4:8] == b"ftyp" and _is_mp4(head):
        return FileFormat("MP4", "video/mp4")
    if _PDF_HEADER.search(head[:1024]):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    return None


def _is_mp3_frame(head: bytes) -> bool:
    """An MPEG-1/2 audio layer III frame header: 11 sync bits, a valid version, layer III."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
    return version != 1 and layer == 1 and bitrate not in (0, 15) and rate != 3


def _is_mp4(head: bytes) -> bool:
    (box_size,) = struct.unpack(">I", head[:4])
    brands = [head[8:12]]
    brands += [head[i : i + 4] for i in range(16, min(box_size, len(head)), 4)]
    return any(brand in _MP4_BRANDS for brand in brands)


def _zip_names(head: bytes, tail: bytes, size: int) -> set[bytes]:
    """The entry names of a ZIP: the first local header's, and the central directory's when
    it lies within the kept tail (it is at the end of the file)."""
    names = set()
    if len(head) >= 30:
        (name_length,) = struct.unpack("<H", head[26:28])
        names.add(head[30 : 30 + name_length])
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or len(tail) < end + 22:
        return names
    entries, cd_size, cd_offset = struct.unpack("<HII", tail[end + 10 : end + 20])
    start = len(tail) - (size - cd_offset)
    if start < 0 or cd_offset == 0xFFFFFFFF:
        return names
    position = start
    for _entry in range(entries):
        if tail[position : position + 4] != b"PK\x01\x02":
            break
        name_length, extra_length, comment_length = struct.unpack(
            "<HHH", tail[position + 28 : position + 34]
        )
        names.add(tail[position + 46 : position + 46 + name_length])
        position += 46 + name_length + extra_length + comment_length
    return names


def identify(filename: str, data: bytes) -> FileFormat:
    """Identify bytes already in memory (a convenience for small files and tests)."""
    identifier = Identifier(filename)
    identifier.feed(data)
    return identifier.finish()
