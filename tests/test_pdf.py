"""No PDF is made with empty boxes for Chinese characters: without a Chinese font, refuse."""

import os
import subprocess
import sys
from pathlib import Path

from tests.pdf_glyphs import assert_chinese_glyphs, notdef_characters

HTML = "<p>档案证明 張偉 abc</p>"


def fontconfig(tmp_path: Path, *font_dirs: str) -> dict:
    """An environment whose fontconfig sees only ``font_dirs`` (none: no font at all)."""
    conf = tmp_path / "fonts.conf"
    dirs = "".join(f"<dir>{d}</dir>" for d in font_dirs) or f"<dir>{tmp_path / 'empty'}</dir>"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
        f"<fontconfig>{dirs}<cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(FONTCONFIG_FILE=str(conf), DJANGO_SETTINGS_MODULE="dangan.settings")
    env["DANGAN_DATA_DIR"] = str(tmp_path / "data")
    return env


def run(env, code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_pdf_with_chinese_text_embeds_a_chinese_font_and_draws_every_glyph():
    from dangan.pdf import render_pdf

    assert_chinese_glyphs(render_pdf(HTML))


REFUSE = f"""
from django.core.exceptions import ValidationError
from django.utils import translation
from dangan.pdf import render_pdf
translation.activate("en")
try:
    render_pdf({HTML!r})
except ValidationError as error:
    print("REFUSED", error.code, *error.messages)
else:
    print("MADE")
"""


def test_without_any_chinese_font_no_pdf_is_made_and_the_fix_is_named(tmp_path):
    done = run(fontconfig(tmp_path), REFUSE)
    assert "REFUSED missing_font" in done.stdout, done.stdout + done.stderr
    assert "No Chinese font is installed" in done.stdout
    assert "apt-get install fonts-noto-cjk" in done.stdout


def test_a_font_without_chinese_glyphs_is_caught_after_rendering(tmp_path):
    """fontconfig's answer can be wrong (a font that claims the language but lacks glyphs):
    the glyphs actually drawn decide."""
    env = fontconfig(tmp_path, "/usr/share/fonts/truetype/dejavu")
    code = "import dangan.pdf as pdf\npdf.font_problem = lambda: None\n" + REFUSE
    done = run(env, code)
    assert "REFUSED missing_font" in done.stdout, done.stdout + done.stderr
    assert "档案证明" in done.stdout and "apt-get install fonts-noto-cjk" in done.stdout


def test_dangan_check_names_the_missing_font_and_its_fix(tmp_path):
    env = fontconfig(tmp_path)
    env["LANGUAGE_CODE"] = "en"
    done = subprocess.run(
        [sys.executable, "-m", "dangan.cli", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "dangan.E001" in done.stderr and "fonts-noto-cjk" in done.stderr, done.stderr


def test_the_glyph_check_sees_empty_boxes(tmp_path):
    """The test's own instrument can fail: a PDF drawn without a Chinese font is caught."""
    env = fontconfig(tmp_path, "/usr/share/fonts/truetype/dejavu")
    out = tmp_path / "bad.pdf"
    draw = f"from weasyprint import HTML\nHTML(string={HTML!r}).write_pdf({str(out)!r})"
    done = run(env, draw)
    assert done.returncode == 0, done.stderr
    assert "档" in notdef_characters(out.read_bytes())


def helvetica_pdf(*, script: bool = False) -> bytes:
    """A one-page PDF written with the standard Helvetica, which no PDF embeds (and, with
    ``script``, JavaScript run at opening)."""
    import io

    import pikepdf

    pdf = pikepdf.new()
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1)
    font.BaseFont = pikepdf.Name.Helvetica
    page = pdf.add_blank_page(page_size=(595, 842))
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.Contents = pdf.make_stream(b"BT /F1 24 Tf 72 700 Td (Received letter) Tj ET")
    if script:
        pdf.Root.OpenAction = pikepdf.Dictionary(
            S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)")
        )
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_a_pdfa_render_passes_the_pdfa_checks_with_its_chinese_font_embedded():
    from dangan.pdf import render_pdf
    from tests.pdf_glyphs import assert_pdfa_2b

    assert_pdfa_2b(render_pdf(HTML, pdfa=True))


def test_the_pdfa_check_names_what_a_plain_pdf_lacks():
    from dangan.pdf import pdfa_problems, render_pdf

    problems = pdfa_problems(render_pdf(HTML))
    assert any(p.startswith("ISO_19005_2:6.6.2.1-1") and "/Metadata" in p for p in problems)
    assert any(p.startswith("ISO_19005_2:6.1.3-1") and "/ID" in p for p in problems)


def test_the_pdfa_check_finds_a_font_not_embedded_and_a_script():
    import pytest
    from django.core.exceptions import ValidationError

    from dangan.pdf import carried_problems, check_pdfa

    assert "font not embedded: Helvetica" in carried_problems(helvetica_pdf())
    assert "active content: /JS" in carried_problems(helvetica_pdf(script=True))
    with pytest.raises(ValidationError) as refused:
        check_pdfa(helvetica_pdf())
    assert refused.value.code == "not_pdfa" and "Helvetica" in refused.value.messages[0]


def test_finishing_a_pikepdf_document_makes_it_pdfa():
    import io

    import pikepdf

    from dangan.pdf import finish_pdfa, pdfa_problems, render_pdf

    with pikepdf.open(io.BytesIO(render_pdf(HTML))) as pdf:
        pdf.docinfo["/Title"] = "档案证明 No. 1"
        finish_pdfa(pdf)
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)
    assert pdfa_problems(out.getvalue()) == []
