"""Comparing Chinese names across simplified and traditional writing (萬平德 is 万平德)."""

import functools
import unicodedata

import opencc


@functools.cache
def _to_simplified():
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """``text`` in simplified characters (the shared, cached t2s converter)."""
    return _to_simplified().convert(text)


def fold(name: str) -> str:
    """The simplified, width-folded, space-free form of a name, for comparison and search."""
    text = unicodedata.normalize("NFKC", name or "")
    return _to_simplified().convert("".join(text.split()))


def same_name(a: str, b: str) -> bool:
    return fold(a) == fold(b)
