"""The sample scans (three pages of one printed form, different persons) as images: the copies
carried with the tests (``tests/samples``), so that these tests run on a fresh clone."""

from PIL import Image

from tests.samples import SCANS as SAMPLES

FOLDERS = ["SYTG-00001", "SYTG-00002", "SYTG-00003"]


def scan(i: int) -> Image.Image:
    with Image.open(SAMPLES / FOLDERS[i] / "0001.jpg") as image:
        return image.convert("L")
