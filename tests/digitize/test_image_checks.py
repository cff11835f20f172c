import io

from PIL import Image

from dangan.digitize.image_checks import check_page
from dangan.digitize.specimens import Specimen, make_specimen, render_specimen, specimen_jpeg

SPECIMEN = make_specimen(3)


def test_straight_200_dpi_page_passes_without_warnings():
    check = check_page(specimen_jpeg(render_specimen(SPECIMEN)))
    assert (check.dpi, check.dpi_source) == (200, "metadata")
    assert check.warnings == []
    assert not check.blank and abs(check.skew_degrees) < 0.5


def test_page_scanned_at_100_dpi_warns_about_resolution():
    check = check_page(specimen_jpeg(render_specimen(SPECIMEN, dpi=100)))
    assert check.dpi == 100
    assert check.codes == {"low_resolution"}
    assert "DA/T 31" in check.warnings[0].message


def test_resolution_without_metadata_is_taken_from_the_a4_page_size():
    page = render_specimen(SPECIMEN, dpi=150)
    buffer = io.BytesIO()
    page.save(buffer, format="PNG")  # no pHYs chunk: no resolution written
    check = check_page(buffer.getvalue())
    assert check.dpi_source == "a4" and round(check.dpi) == 150
    assert "low_resolution" in check.codes


def test_blank_page_is_flagged_even_with_scanner_noise():
    blank = render_specimen(Specimen(lines=("",), traditional=False), noise=1.0, seed=2)
    check = check_page(blank)
    assert check.blank and check.codes == {"blank_page"}


def test_page_turned_six_degrees_is_flagged_as_skewed():
    check = check_page(render_specimen(SPECIMEN, angle=6, noise=0.5, seed=3))
    assert abs(check.skew_degrees - 6) <= 0.5
    assert check.codes == {"skewed"}


def test_slight_skew_the_other_way_is_measured_but_tolerated():
    check = check_page(render_specimen(SPECIMEN, angle=-1.5))
    assert abs(check.skew_degrees + 1.5) <= 0.5
    assert check.warnings == []


def test_dark_scanner_border_is_not_mistaken_for_ink():
    page = Image.new("L", (1654, 2339), 255)
    page.paste(0, (0, 0, 30, 2339))
    assert check_page(page).blank
