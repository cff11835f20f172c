"""What a person would see in a PDF: which fonts are embedded, and whether any character is
drawn as an empty box (the font's .notdef glyph) instead of its glyph."""

import io
import re
import subprocess
import tempfile

import pikepdf
from fontTools.ttLib import TTFont

CJK = re.compile(r"CJK|Song|Hei|Kai|Ming|Fang", re.IGNORECASE)


def embedded_fonts(pdf: bytes) -> list[str]:
    """The names of the fonts ``pdffonts`` reports as embedded."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        listing = subprocess.run(
            ["pdffonts", file.name], capture_output=True, text=True, check=True
        ).stdout
    names = []
    for line in listing.splitlines()[2:]:
        columns = line.split()
        # name, type words…, encoding, emb, sub, uni, object, generation
        if len(columns) >= 6 and columns[-5] == "yes":
            names.append(columns[0])
    return names


def notdef_characters(pdf: bytes) -> list[str]:
    """Characters whose glyph is missing from the embedded font (drawn as .notdef).

    Every font WeasyPrint embeds is a Type0 font whose codes are glyph ids (Identity-H,
    CIDToGIDMap Identity); its ToUnicode map says which character each code stands for. A code
    is a missing glyph when it is 0 or not a glyph of the embedded font program, or when the
    font's encoding is not the identity (WeasyPrint writes its own CMap only to send missing
    glyphs to .notdef)."""
    missing = []
    with pikepdf.open(io.BytesIO(pdf)) as document:
        seen = set()
        for page in document.pages:
            fonts = page.obj.get("/Resources", {}).get("/Font", {})
            for font in fonts.values():
                if font.objgen in seen:
                    continue
                seen.add(font.objgen)
                missing += _missing_in(font)
    return missing


def _missing_in(font) -> list[str]:
    to_unicode = _to_unicode(font.ToUnicode.read_bytes()) if "/ToUnicode" in font else {}
    if font.get("/Subtype") != "/Type0":
        return []
    if font.get("/Encoding") != "/Identity-H":
        return list(to_unicode.values()) or ["?"]
    descriptor = font.DescendantFonts[0].FontDescriptor
    program = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
    if program is None:
        return list(to_unicode.values())
    count = _glyph_count(program.read_bytes())
    return [char for gid, char in to_unicode.items() if gid == 0 or gid >= count]


def _glyph_count(data: bytes) -> int:
    try:
        return TTFont(io.BytesIO(data)).getGlyphSet().__len__()
    except Exception:
        from fontTools.cffLib import CFFFontSet

        cff = CFFFontSet()
        cff.decompile(io.BytesIO(data), None)
        return len(cff[cff.fontNames[0]].charset)


def _to_unicode(cmap: bytes) -> dict[int, str]:
    text = cmap.decode("latin-1")
    mapping = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
        for code, uni in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            mapping[int(code, 16)] = bytes.fromhex(uni).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
        for start, end, uni in re.findall(
            r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block
        ):
            first = ord(bytes.fromhex(uni).decode("utf-16-be")[0])
            for offset in range(int(end, 16) - int(start, 16) + 1):
                mapping[int(start, 16) + offset] = chr(first + offset)
    return mapping


def assert_chinese_glyphs(pdf: bytes) -> None:
    """A CJK font is embedded and no character is drawn as an empty box."""
    fonts = embedded_fonts(pdf)
    assert any(CJK.search(name) for name in fonts), fonts
    assert notdef_characters(pdf) == []


def assert_pdfa_2b(pdf: bytes) -> None:
    """A PDF/A-2b as a keeper would check it: our checker finds nothing (``pdfa_problems``); read
    again here, the XMP names part 2 conformance B and the OutputIntent carries an ICC profile;
    pdffonts finds every font embedded, a CJK one among them, and no glyph is missing."""
    from dangan.pdf import pdfa_problems

    assert pdfa_problems(pdf) == []
    with pikepdf.open(io.BytesIO(pdf)) as document:
        meta = document.open_metadata()
        assert (meta["pdfaid:part"], meta["pdfaid:conformance"]) == ("2", "B")
        (intent,) = document.Root.OutputIntents
        assert intent.S == "/GTS_PDFA1" and len(intent.DestOutputProfile.read_bytes()) > 1000
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        listing = subprocess.run(
            ["pdffonts", file.name], capture_output=True, text=True, check=True
        ).stdout
    assert all(line.split()[-5] == "yes" for line in listing.splitlines()[2:]), listing
    assert_chinese_glyphs(pdf)
