"""The archive's watermark on an exhibition's images: the archive's name, faint and diagonal,
repeated over the picture, drawn into the pixels of the JPEG the public receives (the stored
derivative stays as it was)."""

import functools
import io

from django.conf import settings
from PIL import Image, ImageDraw, ImageFont

from dangan.access.watermark import FONT_FACE, FONT_FILE


@functools.lru_cache(maxsize=8)
def _font(size: int):
    return ImageFont.truetype(FONT_FILE, size=size, index=FONT_FACE)


def watermarked(data: bytes, text: str | None = None) -> bytes:
    """The JPEG of the image ``data`` with ``text`` (the archive's name) laid over it."""
    text = text or settings.DANGAN_ISSUER_NAME
    picture = Image.open(io.BytesIO(data)).convert("RGB")
    width, height = picture.size
    size = max(12, min(width, height) // 18)
    font = _font(size)
    left, top, right, bottom = font.getbbox(text)
    stamp = Image.new("RGBA", (right - left + size, bottom - top + size), (0, 0, 0, 0))
    ImageDraw.Draw(stamp).text((size // 2, size // 2 - top), text, font=font, fill=(160, 0, 0, 80))
    stamp = stamp.rotate(30, expand=True)
    layer = Image.new("RGBA", picture.size, (0, 0, 0, 0))
    step_x, step_y = stamp.width + size * 2, stamp.height + size
    for row, y in enumerate(range(-stamp.height // 2, height, step_y)):
        offset = step_x // 2 if row % 2 else 0  # rows staggered, as on banknote paper
        for x in range(-stamp.width // 2 - offset, width, step_x):
            layer.paste(stamp, (x, y))  # stamps do not overlap: their alpha is kept
    result = Image.alpha_composite(picture.convert("RGBA"), layer).convert("RGB")
    out = io.BytesIO()
    result.save(out, format="JPEG", quality=85)
    return out.getvalue()
