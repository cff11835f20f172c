"""Narrowing the persons a user may see by what a clerk types: a name or an ID number.

Applied only on top of ``visible_persons``; it never widens what a user sees.
"""

import re
import unicodedata

from django.db.models import Q, QuerySet

from dangan.people.id_numbers import upgrade_15
from dangan.people.names import fold

_ID_PART = re.compile(r"^\d{4,17}[\dX]?$")


def normalized_query(q: str) -> str:
    return "".join(unicodedata.normalize("NFKC", q or "").split()).upper()


def looks_like_id_number(q: str) -> bool:
    """Whether ``q`` is an ID number or its tail (such searches are audited, masked)."""
    return bool(_ID_PART.match(normalized_query(q)))


def search_persons(persons: QuerySet, q: str) -> QuerySet:
    """``persons`` named ``q`` in simplified or traditional writing (as the person page finds
    them), or whose ID number is ``q`` (18 or old 15 digits) or ends with it (4 or more)."""
    text = normalized_query(q)
    if not text:
        return persons
    if not _ID_PART.match(text):
        return persons.filter(name_folded=fold(text))
    if len(text) == 18:
        return persons.filter(id_number=text)
    if len(text) == 15:
        return persons.filter(Q(id_number_15=text) | Q(id_number=upgrade_15(text)))
    return persons.filter(id_number__endswith=text)
