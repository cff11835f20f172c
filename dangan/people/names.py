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


def sound(name: str) -> str:
    """How a name is said, in toneless pinyin syllables (刘伟 and 柳炜 are both ``liu wei``): old
    registers were often written down from what was said, so the same person appears under
    homophones. Characters that are not Chinese are kept as they are."""
    from pypinyin import Style, lazy_pinyin

    return " ".join(lazy_pinyin(fold(name), style=Style.NORMAL, errors="default"))
