"""Format identification by content (magic bytes), never by the file's name.

The archive keeps the formats of long-term preservation (GB/T 18894, DA/T 47): images in TIFF,
JPEG, JPEG 2000 and PNG; documents in PDF (PDF/A preferred) and OFD (GB/T 33190); sound in WAV
and MP3; video in MP4. Born-digital office documents (电子文件) — Word (.docx, .doc), Excel
(.xlsx, .xls), PowerPoint (.pptx, .ppt), WPS (.wps, .et), OpenDocument and RTF — are kept as
received and get a PDF/A rendition in the background (``RENDERED``). Plain text (UTF-8 or
GB 18030, no NUL anywhere) and e-mail (RFC 5322: header lines first; refused when an attachment
is a program or script) are kept as they are, their text read (``TEXTUAL``). Everything else is
refused with a message that names the file and says why: a program, a script, a web page, an
encrypted PDF or Office file, a document carrying macros or a ZIP archive is never kept.

Each format carries its PRONOM identifier (PUID, as Archivematica and RODA record it), decided
here from the same structure that decides the format; ``tests/content/test_formats.py`` checks
them against opf-fido (the PRONOM signatures) on real files.

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
    puid: str = ""

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
    "not_ofd": _(
        "“%(name)s” is a ZIP archive, not an OFD or Office document; upload the files it contains."
    ),
    "macro": _(
        "“%(name)s” carries macros (%(kind)s), which can run programs; the archive does not keep "
        "them. Save it without macros (as .docx or .xlsx) and upload that."
    ),
    "encrypted_office": _(
        "“%(name)s” is protected by a password: the archive must be able to read it without "
        "one. Remove the password and upload it again."
    ),
    "zip_bomb": _("“%(name)s” unpacks to far more than its size (%(kind)s); it is not kept."),
    "mail_program": _(
        "“%(name)s” is an e-mail carrying a program (%(kind)s); the archive does not keep "
        "programs. Save the message without that attachment and upload it again."
    ),
    "unknown": _(
        "“%(name)s” is not in a format the archive keeps (TIFF, JPEG, JPEG 2000, PNG, PDF, OFD, "
        "WAV, MP3, MP4, Word, Excel, PowerPoint, WPS, OpenDocument, RTF, plain text or e-mail)."
    ),
}

#: Formats kept as received that also get a PDF/A-2b rendition (LibreOffice, in the worker):
#: the long-term copy, which the viewer shows and the search reads.
RENDERED = {"DOCX", "XLSX", "PPTX", "DOC", "XLS", "PPT", "WPS", "ET", "ODT", "ODS", "ODP", "RTF"}

#: PRONOM identifiers of what is decided here (https://www.nationalarchives.gov.uk/PRONOM/).
PUIDS = {
    "DOCX": "fmt/412",
    "XLSX": "fmt/214",
    "PPTX": "fmt/215",
    "DOC": "fmt/40",
    "WPS": "fmt/40",  # WPS 文字 writes the Word 97-2003 binary format
    "XLS": "fmt/61",
    "ET": "fmt/61",  # WPS 表格 writes the Excel 97-2003 binary format
    "PPT": "fmt/126",
    "ODT": "fmt/290",
    "ODS": "fmt/294",
    "ODP": "fmt/292",
    "RTF": "fmt/45",
    "TIFF": "fmt/353",
    "JPEG 2000": "x-fmt/392",
    "TXT": "x-fmt/111",
    "EML": "fmt/950",
}
#: Formats kept as they are whose text is read from the file itself (no OCR, no rendition).
TEXTUAL = {"TXT", "EML"}
#: Header fields of which an Internet message (RFC 5322, .eml) has at least one near its top.
_MAIL_HEADERS = (
    b"from:",
    b"to:",
    b"subject:",
    b"date:",
    b"received:",
    b"message-id:",
    b"mime-version:",
    b"return-path:",
)
_HEADER_LINE = re.compile(rb"^[A-Za-z0-9][A-Za-z0-9-]*:[ \t]")
#: A text file larger than this is not a document but a dump: not kept as plain text.
TEXT_MAX_BYTES = 64 * 1024 * 1024
_PDF_PUIDS = {
    "1.0": "fmt/14",
    "1.1": "fmt/15",
    "1.2": "fmt/16",
    "1.3": "fmt/17",
    "1.4": "fmt/18",
    "1.5": "fmt/19",
    "1.6": "fmt/20",
    "1.7": "fmt/276",
    "2.0": "fmt/1129",
}
_PDFA_PUIDS = {
    "1a": "fmt/95",
    "1b": "fmt/354",
    "2a": "fmt/476",
    "2b": "fmt/477",
    "2u": "fmt/478",
    "3a": "fmt/479",
    "3b": "fmt/480",
    "3u": "fmt/481",
}
_JFIF_PUIDS = {b"\x01\x00": "fmt/42", b"\x01\x01": "fmt/43", b"\x01\x02": "fmt/44"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: An Office file whose entries unpack to more than this many times its size is refused
#: before LibreOffice ever opens it (a zip bomb); real documents stay far below.
ZIP_MAX_RATIO = 200
ZIP_MAX_UNPACKED = 2 * 1024**3
_ODF_TYPES = {
    b"application/vnd.oasis.opendocument.text": "ODT",
    b"application/vnd.oasis.opendocument.spreadsheet": "ODS",
    b"application/vnd.oasis.opendocument.presentation": "ODP",
}
_OOXML_PARTS = {
    b"word/document.xml": (
        "DOCX",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    b"xl/workbook.xml": (
        "XLSX",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    b"ppt/presentation.xml": (
        "PPTX",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
}
_MIMES = {
    "DOC": "application/msword",
    "WPS": "application/msword",
    "XLS": "application/vnd.ms-excel",
    "ET": "application/vnd.ms-excel",
    "PPT": "application/vnd.ms-powerpoint",
    "ODT": "application/vnd.oasis.opendocument.text",
    "ODS": "application/vnd.oasis.opendocument.spreadsheet",
    "ODP": "application/vnd.oasis.opendocument.presentation",
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

    if depth > 50 or not isinstance(obj, pikepdf.Object):  # a number or string: nothing active
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
        elif self._kind == "ole":
            self._pdf_spool.write(chunk)
        elif self._kind in ("text", "mail"):
            self._scan_text(chunk)

    @property
    def needs_more(self) -> bool:
        """Whether later bytes can still change the answer (the head is not full yet, or a PDF
        or ZIP is read to its end); a caller that only identifies may stop feeding when not."""
        return self._kind is None or self._kind in ("pdf", "zip", "ole", "text", "mail")

    def finish(self) -> FileFormat:
        if self._kind is None:
            if not self._head:
                self._refuse("empty")
            self._decide(self._head)
        if self._kind == "pdf":
            return self._pdf_format()
        if self._kind == "zip":
            return self._zip_format()
        if self._kind == "ole":
            return self._ole_format()
        if self._kind in ("text", "mail"):
            return self._text_format()
        return self._kind

    # --- deciding from the head ---------------------------------------------------------------
    def _decide(self, seen: bytes):
        head = self._head
        for magic, kind in _EXECUTABLES:
            if head.startswith(magic):
                self._refuse("executable", kind=kind)
        known = _identify_head(head)
        if known in ("pdf", "zip", "ole"):
            self._kind = known
            if known == "pdf":
                self._scan_pdf(seen)
            elif known == "ole":
                self._pdf_spool = tempfile.SpooledTemporaryFile(max_size=PDF_SPOOL_MEMORY)
                self._pdf_spool.write(seen)
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
        if _is_text(seen):
            self._kind = "mail" if _is_mail(seen) else "text"
            self._text_bad = False
            self._pdf_spool = tempfile.SpooledTemporaryFile(max_size=PDF_SPOOL_MEMORY)
            self._scan_text(seen)
            return
        self._refuse("unknown")

    # --- plain text and e-mail --------------------------------------------------------------------
    def _scan_text(self, chunk):
        """Text all the way: no NUL byte, and decodable (UTF-8 or GB 18030) piece by piece."""
        if b"\x00" in chunk or self._size > TEXT_MAX_BYTES:
            self._text_bad = True
        if self._kind == "mail" and not self._text_bad:
            self._pdf_spool.write(chunk)

    def _text_format(self) -> FileFormat:
        spool, self._pdf_spool = self._pdf_spool, None
        try:
            if self._text_bad:
                self._refuse("unknown")
            if self._kind == "text":
                return FileFormat("TXT", "text/plain", puid=PUIDS["TXT"])
            spool.seek(0)
            program = _mail_program(spool.read())
            if program:
                self._refuse("mail_program", kind=program)
            return FileFormat("EML", "message/rfc822", puid=PUIDS["EML"])
        finally:
            spool.close()

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
            return FileFormat("PDF/A", "application/pdf", version, _PDFA_PUIDS.get(version, ""))
        version = _PDF_HEADER.search(self._head[:1024]).group(1).decode()
        return FileFormat("PDF", "application/pdf", version, _PDF_PUIDS.get(version, ""))

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

    # --- ZIP: OFD (OFD.xml at its root), Office Open XML, OpenDocument -------------------------
    def _zip_format(self) -> FileFormat:
        names = _zip_names(self._head, self._zip_tail, self._size)
        if b"OFD.xml" in names:
            return FileFormat("OFD", "application/ofd")
        if b"[Content_Types].xml" in names:
            return self._ooxml_format(names)
        odf = _odf_type(self._head)
        if odf:
            if any(name.startswith((b"Basic/", b"Scripts/")) for name in names):
                self._refuse("macro", kind="OpenDocument Basic")
            self._check_unpacked_size()
            return FileFormat(odf, _MIMES[odf], puid=PUIDS[odf])
        self._refuse("not_ofd")

    def _ooxml_format(self, names) -> FileFormat:
        if any(name.endswith(b"vbaProject.bin") for name in names):
            self._refuse("macro", kind="VBA")
        for part, (name, mime) in _OOXML_PARTS.items():
            if part in names:
                self._check_unpacked_size()
                return FileFormat(name, mime, puid=PUIDS[name])
        self._refuse("unknown")

    def _check_unpacked_size(self):
        unpacked = _zip_unpacked_size(self._zip_tail, self._size)
        if unpacked > ZIP_MAX_UNPACKED or unpacked > ZIP_MAX_RATIO * max(self._size, 1):
            self._refuse("zip_bomb", kind=f"{unpacked:,} bytes")

    # --- OLE2 compound files: Word, Excel, PowerPoint 97-2003 and WPS --------------------------
    def _ole_format(self) -> FileFormat:
        import olefile

        spool, self._pdf_spool = self._pdf_spool, None
        try:
            spool.seek(0)
            try:
                ole = olefile.OleFileIO(spool)
            except (OSError, olefile.olefile.OleFileError, ValueError, struct.error):
                self._refuse("unknown")
            with ole:
                return self._ole_document(ole)
        finally:
            spool.close()

    def _ole_document(self, ole) -> FileFormat:
        entries = {"/".join(path) for path in ole.listdir(streams=True, storages=True)}
        if {"EncryptedPackage", "EncryptionInfo"} & entries:
            self._refuse("encrypted_office")
        if any(
            part in ("_VBA_PROJECT_CUR", "Macros", "VBA") for e in entries for part in e.split("/")
        ):
            self._refuse("macro", kind="VBA")
        if "WordDocument" in entries:
            name = "DOC"
            flags = ole.openstream("WordDocument").read(12)[10:12]
            if len(flags) == 2 and struct.unpack("<H", flags)[0] & 0x0100:  # FIB fEncrypted
                self._refuse("encrypted_office")
        elif "Workbook" in entries or "Book" in entries:
            name = "XLS"
            stream = "Workbook" if "Workbook" in entries else "Book"
            if _xls_has_password(ole.openstream(stream)):
                self._refuse("encrypted_office")
        elif "PowerPoint Document" in entries:
            name = "PPT"
        else:
            self._refuse("unknown")
        if name in ("DOC", "XLS") and _made_by_wps(ole):
            name = {"DOC": "WPS", "XLS": "ET"}[name]
        return FileFormat(name, _MIMES[name], puid=PUIDS[name])


def _is_text(head: bytes) -> bool:
    """Whether the first bytes of a file read as text: UTF-8 (a BOM allowed) or GB 18030, no
    NUL, few control characters (a multibyte character cut at the end is allowed)."""
    if not head or b"\x00" in head:
        return False
    sample = head[:-4] if len(head) >= HEAD_BYTES else head
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for c in text if ord(c) < 32 and c not in "\t\r\n\f")
        return controls <= len(text) // 100
    return False


def _is_mail(head: bytes) -> bool:
    """An Internet message: it starts with header lines, a known one among the first ten."""
    lines = head.lstrip(b"\r\n").splitlines()[:10]
    if not lines or not _HEADER_LINE.match(lines[0]):
        return False
    return any(line.lower().startswith(_MAIL_HEADERS) for line in lines)


def _mail_program(data: bytes) -> str | None:
    """The kind of program an e-mail carries as an attachment, or None."""
    import email
    import email.policy

    message = email.message_from_bytes(data, policy=email.policy.default)
    for part in message.walk():
        if part.is_multipart():
            continue
        try:
            payload = part.get_payload(decode=True) or b""
        except Exception:  # a part that cannot be decoded carries nothing runnable
            continue
        for magic, kind in _EXECUTABLES:
            if payload.startswith(magic):
                return kind
        if payload.lstrip().startswith((b"#!", b"<?php")):
            return "script"
    return None


def _identify_head(head: bytes):
    """The format a file's first bytes show, "pdf"/"zip" to be settled later, or None."""
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return FileFormat("TIFF", "image/tiff", "6.0", PUIDS["TIFF"])
    if head.startswith((b"II+\x00", b"MM\x00+")):
        return FileFormat("TIFF", "image/tiff", "BigTIFF")
    if head.startswith(b"\xff\xd8\xff"):
        jfif = head[6:11] == b"JFIF\x00"
        return FileFormat(
            "JPEG", "image/jpeg", puid=_JFIF_PUIDS.get(head[11:13], "") if jfif else ""
        )
    if head.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n"):
        return FileFormat("JPEG 2000", "image/jp2", puid=PUIDS["JPEG 2000"])
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
    if head.startswith(_OLE_MAGIC):
        return "ole"
    if head.startswith(b"{\\rtf"):
        return FileFormat("RTF", "application/rtf", puid=PUIDS["RTF"])
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


def _zip_unpacked_size(tail: bytes, size: int) -> int:
    """The sum of the uncompressed sizes the central directory declares (0 if not in ``tail``)."""
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or len(tail) < end + 22:
        return 0
    entries, _cd_size, cd_offset = struct.unpack("<HII", tail[end + 10 : end + 20])
    position = len(tail) - (size - cd_offset)
    total = 0
    for _entry in range(entries):
        if position < 0 or tail[position : position + 4] != b"PK\x01\x02":
            break
        (unpacked,) = struct.unpack("<I", tail[position + 24 : position + 28])
        name_length, extra_length, comment_length = struct.unpack(
            "<HHH", tail[position + 28 : position + 34]
        )
        total += unpacked
        position += 46 + name_length + extra_length + comment_length
    return total


def _odf_type(head: bytes) -> str | None:
    """OpenDocument: the first entry is ``mimetype``, stored, holding the document's type."""
    if head[30:38] != b"mimetype":
        return None
    (stored_size,) = struct.unpack("<I", head[18:22])
    name_length, extra_length = struct.unpack("<HH", head[26:30])
    start = 30 + name_length + extra_length
    return _ODF_TYPES.get(head[start : start + min(stored_size, 100)])


def _xls_has_password(stream, limit: int = 4096) -> bool:
    """Whether the workbook globals of an Excel 97-2003 stream hold a FILEPASS record (0x002F)
    before their EOF (0x000A): the workbook is encrypted."""
    for _record in range(limit):
        header = stream.read(4)
        if len(header) < 4:
            return False
        kind, length = struct.unpack("<HH", header)
        if kind == 0x002F:
            return True
        if kind == 0x000A:
            return False
        stream.read(length)
    return False


def _made_by_wps(ole) -> bool:
    """Whether the document's summary names Kingsoft WPS Office as the program that wrote it."""
    try:
        application = ole.get_metadata().creating_application or b""
    except Exception:  # a damaged summary stream: the format is still the Word/Excel one
        return False
    return b"WPS" in application or b"Kingsoft" in application


def identify(filename: str, data: bytes) -> FileFormat:
    """Identify bytes already in memory (a convenience for small files and tests)."""
    identifier = Identifier(filename)
    identifier.feed(data)
    return identifier.finish()
