"""Thumbnails (缩略图) of page images, for lists of pages and the reading-room viewer.

Sizes are bounding boxes: a page keeps its proportions and is never enlarged. Thumbnails are
WebP (small, and every current browser shows it) unless JPEG is asked for.
"""

import io

from PIL import Image

from dangan.digitize.ocr import load_image

# name -> the longest side in pixels
SIZES = {"small": 200, "medium": 600}


def make_thumbnail(
    image, *, size: int | str = "small", format: str = "WEBP", quality: int = 80
) -> bytes:
    """The thumbnail of ``image`` (path, bytes, PIL image or array) as encoded bytes."""
    longest = SIZES[size] if isinstance(size, str) else int(size)
    return _encode(_shrink(load_image(image, draft=longest), longest), format, quality)


def make_thumbnails(image, *, format: str = "WEBP", quality: int = 80) -> dict[str, bytes]:
    """Every size in ``SIZES`` of one image: each smaller one is made from the one above."""
    picture = load_image(image, draft=max(SIZES.values()))
    result = {}
    for name, longest in sorted(SIZES.items(), key=lambda item: -item[1]):
        picture = _shrink(picture, longest)
        result[name] = _encode(picture, format, quality)
    return result


def _shrink(picture: Image.Image, longest: int) -> Image.Image:
    if picture.mode not in {"L", "RGB"}:
        picture = picture.convert("RGB")
    shrunk = picture.copy()
    shrunk.thumbnail((longest, longest), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return shrunk


def _encode(picture: Image.Image, format: str, quality: int) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format=format, quality=quality)
    return buffer.getvalue()
