"""One OCR engine per test session (loading the models takes a moment), and the sample scans."""

import json

import pytest

from dangan.digitize.ocr import RapidOcrEngine
from tests.samples import SCANS, TRUTH


@pytest.fixture(scope="session")
def engine():
    return RapidOcrEngine()


@pytest.fixture(scope="session")
def sample_truth():
    """folder -> (image bytes, true text, traditional?) of the three sample scans."""
    return {
        item["folder"]: (
            (SCANS / item["folder"] / "0001.jpg").read_bytes(),
            item["text"],
            item["traditional"],
        )
        for item in json.loads(TRUTH.read_text(encoding="utf-8"))
    }


@pytest.fixture(scope="session")
def sample_pages(engine, sample_truth):
    """folder -> PageText, each sample page read once for the whole session."""
    return {folder: engine.recognize(image) for folder, (image, _t, _tr) in sample_truth.items()}
