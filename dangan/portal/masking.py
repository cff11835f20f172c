"""Masking names and ID numbers that are not the viewer's own (脱敏).

A citizen sees her own name; everyone else on her records, and everyone on the open catalogue,
appears as the surname and a star per further character (张*, 欧阳** → 欧**). ID numbers show the
region and the last four digits, as everywhere in Dangan (``people.id_numbers.mask``).
"""

import re

from dangan.people.id_numbers import mask as mask_id_number
from dangan.people.names import to_simplified

_ID_RUN = re.compile(r"\d{17}[\dXx]|\d{15}")


def mask_name(name: str) -> str:
    name = "".join((name or "").split())
    if len(name) <= 1:
        return "*" * len(name)
    return name[0] + "*" * (len(name) - 1)


def mask_text(text: str, names=()) -> str:
    """``text`` with every ID-number-like run and every one of ``names`` masked.

    Names are matched in simplified characters, so 萬平德 in a title is masked for the person
    万平德 too.
    """
    text = _ID_RUN.sub(lambda m: mask_id_number(m.group()), text or "")
    folded = to_simplified(text)
    if len(folded) != len(text):  # the conversion moved characters: match the text as written
        folded = text
    chars = list(text)
    wanted = {to_simplified("".join(n.split())) for n in names if n}
    for name in {n for n in wanted if len(n) > 1}:
        start = folded.find(name)
        while start >= 0:
            for i in range(start + 1, start + len(name)):
                chars[i] = "*"
            start = folded.find(name, start + len(name))
    return "".join(chars)
