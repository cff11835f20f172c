"""Active content in PDFs is found by parsing them (pikepdf), where a scan of the raw bytes is
blind: compressed object streams, escaped names; and chance bytes in images do not refuse."""

import io
import zlib

import pikepdf
import pytest
from django.core.exceptions import ValidationError

from dangan.content.formats import identify, pdf_active_content


def make_pdf(change=None, *, object_streams=True, compress=True) -> bytes:
    """A real one-page PDF, changed by ``change(pdf)``, saved with compressed object streams
    (as Acrobat and Word save them) unless told otherwise."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    if change is not None:
        change(pdf)
    out = io.BytesIO()
    mode = pikepdf.ObjectStreamMode.generate if object_streams else pikepdf.ObjectStreamMode.disable
    pdf.save(out, object_stream_mode=mode, compress_streams=compress)
    return out.getvalue()


def open_action_script(pdf):
    pdf.Root.OpenAction = pdf.make_indirect(
        pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
    )


def page_additional_action(pdf):
    pdf.pages[0].obj.AA = pikepdf.Dictionary(
        O=pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe"))
    )


def embedded_file(pdf):
    pdf.attachments["invoice.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ" + bytes(100))


def xfa_form(pdf):
    pdf.Root.AcroForm = pikepdf.Dictionary(
        Fields=pikepdf.Array(), XFA=pdf.make_stream(b"<xdp:xdp/>")
    )


def link_with_script(pdf):
    annotation = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Link,
        Rect=[0, 0, 100, 100],
        A=pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("this.print()")),
    )
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(annotation)]))


def rich_media(pdf):
    annotation = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.RichMedia, Rect=[0, 0, 10, 10]
    )
    pdf.pages[0].obj.Annots = pikepdf.Array([pdf.make_indirect(annotation)])


@pytest.mark.parametrize(
    ("change", "found"),
    [
        (open_action_script, "/J"),
        (page_additional_action, "/Launch"),
        (embedded_file, "/Embedded"),
        (xfa_form, "/XFA"),
        (link_with_script, "/J"),
        (rich_media, "/RichMedia"),
    ],
)
def test_active_content_hidden_in_object_streams_is_refused(change, found):
    data = make_pdf(change)
    assert b"/JavaScript" not in data and b"/Launch" not in data  # invisible to a raw scan
    with pytest.raises(ValidationError) as refused:
        identify("report.pdf", data)
    assert refused.value.code == "format_active_pdf"
    assert found in refused.value.messages[0]


def test_escaped_names_are_decoded_before_the_check():
    data = make_pdf(open_action_script, object_streams=False)
    data = data.replace(b"/JavaScript", b"/J#61vaScript").replace(b"/JS ", b"/J#53 ")
    assert b"/JavaScript" not in data
    with pytest.raises(ValidationError) as refused:
        identify("report.pdf", data)
    assert refused.value.code == "format_active_pdf"


def test_a_plain_pdf_with_links_and_a_page_open_action_is_kept():
    def harmless(pdf):
        pdf.Root.OpenAction = pikepdf.Array([pdf.pages[0].obj, pikepdf.Name.Fit])
        link = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Link,
            Rect=[0, 0, 100, 100],
            A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://example.cn")),
        )
        pdf.pages[0].obj.Annots = pikepdf.Array([pdf.make_indirect(link)])

    assert identify("scan.pdf", make_pdf(harmless)).name == "PDF"


def test_chance_bytes_in_an_image_stream_do_not_refuse_a_scan():
    def with_image(pdf):
        # uncompressed image bytes that spell "/JS " and "/Launch " by chance
        raw = (b"\x00/JS \x01/Launch \x02" * 200)[:3000]
        image = pdf.make_stream(raw, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image,
                                Width=10, Height=300, ColorSpace=pikepdf.Name.DeviceGray,
                                BitsPerComponent=8)  # fmt: skip
        pdf.pages[0].obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))

    data = make_pdf(with_image, compress=False)
    assert b"/JS " in data and b"/Launch " in data
    assert identify("scan.pdf", data).name == "PDF"


def test_a_pdf_qpdf_cannot_parse_falls_back_to_the_raw_scan():
    broken = b"%PDF-1.7\n" + zlib.compress(b"x" * 100) + b"\n/Launch /F (cmd.exe)\n"
    with pytest.raises(ValidationError) as refused:
        identify("broken.pdf", broken)
    assert refused.value.code == "format_active_pdf"


def test_the_check_reads_a_stored_file_by_path(tmp_path):
    path = tmp_path / "a.pdf"
    path.write_bytes(make_pdf(embedded_file))
    assert pdf_active_content(path) in ("/EmbeddedFiles", "/EmbeddedFile")
    path.write_bytes(make_pdf())
    assert pdf_active_content(path) is None
