import pytest
from django.core.exceptions import ImproperlyConfigured

from dangan.digitize.ocr import PageText, TesseractEngine, get_engine
from dangan.digitize.specimens import character_accuracy, make_specimen, render_specimen


def test_sample_scans_are_read_almost_character_for_character(sample_truth, sample_pages):
    for folder, (_image, truth, _traditional) in sample_truth.items():
        assert character_accuracy(truth, sample_pages[folder].text) >= 0.97, folder


def test_traditional_page_is_read_in_traditional_characters(sample_pages):
    text = sample_pages["SYTG-00003"].text
    assert "工人技術等級" in text
    assert "建湖縣農機修造廠" in text
    assert "技术" not in text


def test_each_line_keeps_its_box_and_confidence_in_reading_order(sample_pages):
    page = sample_pages["SYTG-00001"]
    assert (page.width, page.height) == (1654, 2339)
    title, *rest = page.lines
    assert title.text == "失业人员档案托管登记表"
    assert all(title.bottom <= line.top + 5 for line in rest)
    assert all(0.5 <= line.confidence <= 1 for line in page.lines)
    assert page.text.splitlines()[1].replace(" ", "") == "姓名：罗凤秀性别：女"


def test_page_text_survives_a_round_trip_through_json(sample_pages):
    page = sample_pages["SYTG-00002"]
    assert PageText.from_dict(page.as_dict()) == page


@pytest.mark.parametrize("traditional", [False, True])
def test_rendered_a4_page_is_read_at_least_98_percent(engine, traditional):
    specimen = make_specimen(7, traditional=traditional)
    page = engine.recognize(render_specimen(specimen, angle=0.8, noise=0.6, seed=7))
    assert character_accuracy(specimen.text, page.text) >= 0.98


def test_blank_page_reads_as_no_text(engine):
    from PIL import Image

    page = engine.recognize(Image.new("L", (827, 1170), 255))
    assert page.lines == () and page.text == "" and page.confidence == 0


def test_unknown_engine_name_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured, match="choose one of: rapidocr, tesseract"):
        get_engine("abbyy")


@pytest.mark.skipif(not TesseractEngine.available(), reason="tesseract is not installed")
def test_tesseract_stands_in_with_the_same_interface(sample_truth):
    image, truth, _traditional = sample_truth["SYTG-00001"]
    page = TesseractEngine().recognize(image)
    assert character_accuracy(truth, page.text) >= 0.9
