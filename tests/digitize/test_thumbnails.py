import io

import pytest
from PIL import Image

from dangan.digitize.thumbnails import SIZES, make_thumbnail, make_thumbnails


def _size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def test_thumbnails_keep_the_page_proportions_within_their_box(sample_truth):
    image, _text, _traditional = sample_truth["SYTG-00001"]
    thumbnails = make_thumbnails(image)
    assert set(thumbnails) == set(SIZES)
    assert _size(thumbnails["small"]) == (141, 200)
    assert _size(thumbnails["medium"]) == (424, 600)
    assert Image.open(io.BytesIO(thumbnails["small"])).format == "WEBP"
    assert len(thumbnails["small"]) < 10_000


@pytest.mark.parametrize("size, expected", [(100, (100, 71)), ("small", (200, 141))])
def test_landscape_page_and_jpeg_thumbnail(size, expected):
    buffer = io.BytesIO()
    Image.new("RGB", (2339, 1654), "white").save(buffer, format="JPEG")
    data = make_thumbnail(buffer.getvalue(), size=size, format="JPEG")
    assert _size(data) == expected


def test_small_image_is_never_enlarged():
    assert _size(make_thumbnail(Image.new("L", (120, 90), 255), size="medium")) == (120, 90)
