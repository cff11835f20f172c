"""The shared sample scans (three pages of one printed form, different persons) as images."""

from pathlib import Path

import pytest
from PIL import Image

SAMPLES = Path("/work/shared/samples/scans")
if not SAMPLES.exists():  # CI lays shared/ beside the clone
    SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples" / "scans"
FOLDERS = ["SYTG-00001", "SYTG-00002", "SYTG-00003"]


def scan(i: int) -> Image.Image:
    path = SAMPLES / FOLDERS[i] / "0001.jpg"
    if not path.exists():
        pytest.skip("the sample scans (shared/samples/scans) are not here")
    with Image.open(path) as image:
        return image.convert("L")
