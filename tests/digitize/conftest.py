"""One OCR engine per test session (loading the models takes a moment), and the sample scans."""

import json
from pathlib import Path

import pytest

from dangan.digitize.ocr import RapidOcrEngine

SAMPLES = Path("/work/shared/samples")
if not SAMPLES.exists():  # CI lays shared/ beside the clone
    SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"


@pytest.fixture(scope="session")
def engine():
    return RapidOcrEngine()


@pytest.fixture(scope="session")
def sample_truth():
    """folder -> (image bytes, true text, traditional?) of the three sample scans."""
    path = SAMPLES / "scans.truth.json"
    if not path.exists():
        pytest.skip("the sample scans (shared/samples/scans) are not here")
    return {
        item["folder"]: (
            (SAMPLES / "scans" / item["folder"] / "0001.jpg").read_bytes(),
            item["text"],
            item["traditional"],
        )
        for item in json.loads(path.read_text(encoding="utf-8"))
    }


@pytest.fixture(scope="session")
def sample_pages(engine, sample_truth):
    """folder -> PageText, each sample page read once for the whole session."""
    return {folder: engine.recognize(image) for folder, (image, _t, _tr) in sample_truth.items()}
