"""Page fingerprints: a perceptual hash of a page's image, so that the same sheet scanned twice
is found even when the second scan has another resolution, lightness or JPEG quality.

The hash is the sign of the 255 lowest frequencies of the discrete cosine transform of the page
reduced to 64 × 64 grey levels (a "pHash"): it keeps the layout of ink on the sheet, not the
pixels. On the sample scans a re-scan at half the resolution, blurred, lighter and saved as JPEG
differs from the original in at most 16 bits of 255; two different pages of the same printed form
differ in 56 or more. ``SAME_PAGE_BITS`` sits between.
"""

import io

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy.fft import dctn

#: At most this many of the 255 bits differ between two scans of one page.
SAME_PAGE_BITS = 28
#: The hash is cut into bands of 16 bits: two hashes closer than 16 bits share one band exactly
#: (pigeonhole), and nearly all closer than ``SAME_PAGE_BITS`` do, so only pages sharing a band
#: are compared.
BAND_BITS = 16
_SIDE = 64
_KEPT = 16
#: A page whose grey levels hardly vary is blank (or nearly): not worth a fingerprint.
_BLANK_STD = 2.0


def fingerprint(data: bytes) -> str:
    """The 64 hex digits of the image's hash; "" when it is not an image or is blank."""
    try:
        image = Image.open(io.BytesIO(data))
        image.draft("L", (_SIDE * 4, _SIDE * 4))  # JPEG: decode at a fraction of the size
        image = ImageOps.exif_transpose(image).convert("L")
    except (UnidentifiedImageError, OSError, ValueError):
        return ""
    grey = np.asarray(image.resize((_SIDE, _SIDE), Image.Resampling.BOX), dtype=np.float64)
    if grey.std() < _BLANK_STD:
        return ""
    grey = (grey - grey.min()) / max(grey.max() - grey.min(), 1.0)
    low = dctn(grey, norm="ortho")[:_KEPT, :_KEPT].flatten()[1:]  # without the mean
    bits = low > np.median(low)
    return f"{int(''.join('1' if b else '0' for b in bits), 2):064x}"


def distance(a: str, b: str) -> int:
    """How many bits of two fingerprints differ."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def bands(value: str) -> list[str]:
    """The fingerprint cut into its bands (4 hex digits each), each prefixed with its place."""
    step = BAND_BITS // 4
    return [f"{i}:{value[i : i + step]}" for i in range(0, len(value), step)]
