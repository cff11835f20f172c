"""The one analyzer that every search backend indexes and queries with.

Chinese is written without spaces, and a dictionary would miss exactly the words that matter
here (names, places, employers), so text is cut the way Lucene's CJK analyzer cuts it: every
two neighbouring characters (a bigram) are a term, and every single character too, so that a
one-character query works. Before cutting, text is folded: NFKC (full-width ＡＢ１ → ab1),
traditional → simplified (opencc t2s: 萬平德 finds 万平德 and the reverse), lower case. Runs of
other scripts become words and numbers.

A record's document has five columns of terms:

``meta``
    bigrams and words of its description (title, responsible party, metadata, persons' names)
``pages``
    bigrams and words of its pages' OCR text
``chars``
    the single CJK characters of both
``exact``
    whole identifiers: persons' names (``_n``), ID numbers whole and in their 15-digit form
    (``_i``), their last 4 and 6 digits (``_t``), archival codes and legacy numbers (``_x``)
``facets``
    fonds, category, unit, year, retention, openness (``_f…``) and "secrecy at most k" for
    every k the record's level satisfies (``_fsle2``), so that filters and the user's rights
    can be applied inside the index before ranking, each grant's secrecy as one term

Terms consist of letters, digits and ``_`` only. Natural terms never contain ``_``, so what a
user types can never turn into an identifier or a facet term.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import add

from dangan.people.names import to_simplified

COLUMNS = ("meta", "pages", "chars", "exact", "facets")

#: Han (with 〇 and the extensions), kana and hangul: the scripts cut into bigrams.
_CJK = (
    "\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
)
_RUNS = re.compile(rf"([{_CJK}]+)|([^\W_{_CJK}]+)")
_ONLY_CJK = re.compile(rf"^[{_CJK}]+$")
_ID_SEPARATORS = re.compile(r"[\s\-_]+")
_FULL_ID = re.compile(r"^(\d{17}[\dx]|\d{15})$")
_ID_TAIL = re.compile(r"^(\d{3}[\dx]|\d{5}[\dx])$")
#: A number on a page long enough to be an identifier (8 digits and more, an ID number's x).
_PAGE_NUMBER = re.compile(r"(?<!\d)\d{7,}[\dx](?!\d)")
NUMBERS_PER_PAGE = 40
_CODE = re.compile(r"[^\w]|_")


def fold(text: str) -> str:
    """NFKC, simplified characters, lower case: the form both documents and queries take."""
    if not text:
        return ""
    if text.isascii():  # codes, numbers: NFKC and opencc leave ASCII as it is
        return text.lower()
    if not unicodedata.is_normalized("NFKC", text):  # the quick check: most text already is
        text = unicodedata.normalize("NFKC", text)
    return to_simplified(text).lower()


def _cut(folded: str, grams: list, chars: list) -> None:
    """Append the bigrams and words of ``folded`` to ``grams`` and its CJK characters to
    ``chars``. A lone CJK character between other scripts goes to ``chars`` only."""
    for cjk, word in _RUNS.findall(folded):
        if cjk:
            chars.extend(cjk)
            if len(cjk) > 1:
                grams.extend(map(add, cjk, cjk[1:]))
        else:
            grams.append(word)


def code_term(code: str) -> str:
    """The exact term of an archival code or legacy number: letters and digits only, so that
    A001-WS·2011-Y-0001, a001ws2011y0001 and Ａ００１… are one term."""
    return "_x" + _CODE.sub("", fold(code))


def id_terms(number: str) -> list[str]:
    """Terms of an 18-digit ID number (and its 15-digit form): whole, and the last 4 and 6."""
    number = number.lower()
    terms = [f"_i{number}", f"_t{number[-4:]}", f"_t{number[-6:]}"]
    if len(number) == 18:
        terms.append(f"_i{number[:6]}{number[8:17]}")
    return terms


def name_term(name: str) -> str:
    return "_n" + "".join(fold(name).split())


@dataclass
class Document:
    """A record's terms, column by column, as every backend stores them."""

    record_id: int
    meta: list = field(default_factory=list)
    pages: list = field(default_factory=list)
    chars: list = field(default_factory=list)
    exact: list = field(default_factory=list)
    facets: list = field(default_factory=list)
    stamp: object = None  # the record's updated_at when it was read

    def add_meta(self, text: str) -> None:
        _cut(fold(text), self.meta, self.chars)

    def add_page(self, text: str) -> None:
        folded = fold(text)
        _cut(folded, self.pages, self.chars)
        # Numbers printed on the page (an ID number, a licence or account number) are found
        # by their last 4 and 6 digits, as a person's ID number is. After the page's words,
        # so that no phrase is split; a bounded number per page.
        runs = _PAGE_NUMBER.findall(folded)[:NUMBERS_PER_PAGE]
        for run in dict.fromkeys(runs):
            self.pages.extend((f"_t{run[-4:]}", f"_t{run[-6:]}"))

    def columns(self) -> dict[str, str]:
        return {name: " ".join(getattr(self, name)) for name in COLUMNS}


def facet_term(name: str, value) -> str:
    """``_fc12``: the record's category is 12. ``name`` is one letter (see ``FACETS``)."""
    return f"_f{name}{str(value).lower()}"


#: Records per id band: a band term (``_fb15``: ids 15 × 65,536 … 16 × 65,536 − 1) lets an
#: engine whose index cannot be read in id order (PostgreSQL's GIN) look for the newest
#: matches of a common word among the newest records first, instead of among all.
ID_BAND = 65_536


def band_term(band: int) -> str:
    return facet_term("b", band)


#: The one-letter facet names used in facet terms.
FACETS = {
    "fonds": "f",
    "category": "c",
    "unit": "u",
    "secrecy": "s",
    "year": "y",
    "retention": "r",
    "openness": "o",
}


# --- Queries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    text: str
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    """Terms that must follow each other (the bigrams of a typed Chinese phrase)."""

    terms: tuple


@dataclass(frozen=True)
class AllOf:
    parts: tuple


@dataclass(frozen=True)
class AnyOf:
    parts: tuple


def all_of(parts: Iterable):
    parts = tuple(dict.fromkeys(p for p in parts if p is not None))
    return None if not parts else parts[0] if len(parts) == 1 else AllOf(parts)


def any_of(parts: Iterable):
    parts = tuple(dict.fromkeys(p for p in parts if p is not None))
    return None if not parts else parts[0] if len(parts) == 1 else AnyOf(parts)


def description_part(node):
    """The part of a query tree that can match in a record's description (``meta`` and
    ``exact``), or None. A single CJK character is a term of ``chars`` only, which holds the
    pages' characters too, so a branch that needs one cannot match there."""
    if isinstance(node, Term):
        return None if len(node.text) == 1 and _ONLY_CJK.match(node.text) else node
    if isinstance(node, AllOf):
        parts = [description_part(p) for p in node.parts]
        return None if None in parts else all_of(parts)
    if isinstance(node, AnyOf):
        return any_of(description_part(p) for p in node.parts)
    return node


@dataclass(frozen=True)
class Query:
    """A parsed query: the tree the backends render, and what snippets should highlight."""

    node: object
    needles: tuple  # folded strings to mark in snippets
    id_like: bool  # the query is (part of) an ID number: masked wherever it is kept
    name: str = ""  # folded, when the query looks like a person's name


def _general(part: str):
    """The bigram phrases and words of one folded query word."""
    nodes = []
    for cjk, word in _RUNS.findall(part):
        if cjk and len(cjk) == 1:
            nodes.append(Term(cjk))
        elif cjk:
            grams = tuple(map(add, cjk, cjk[1:]))
            nodes.append(Term(grams[0]) if len(grams) == 1 else Phrase(grams))
        else:
            nodes.append(Term(word))
    return all_of(nodes)


def _part(part: str):
    """One space-separated word of a query: its natural terms, or any identifier it may be."""
    compact = _ID_SEPARATORS.sub("", part)
    alternatives = [_general(part)]
    if _FULL_ID.match(compact):
        alternatives.append(Term(f"_i{compact}"))
    elif _ID_TAIL.match(compact):
        alternatives.append(Term(f"_t{compact}"))
    code = code_term(part)
    if len(code) >= 8:  # "_x" and six characters: specific enough for a prefix look-up
        alternatives.append(Term(code, prefix=True))
    elif len(code) > 2:
        alternatives.append(Term(code))
    if _ONLY_CJK.match(part) and 2 <= len(part) <= 4:
        alternatives.append(Term(f"_n{part}"))
    return any_of(alternatives)


def parse_query(text: str) -> Query | None:
    """The query a user typed, or None when it holds nothing to search for."""
    folded = fold(text or "")
    parts = folded.split()
    node = all_of(_part(p) for p in parts)
    if node is None:
        return None
    needles = []
    for part in parts:
        needles.extend(cjk or word for cjk, word in _RUNS.findall(part))
    compact = _ID_SEPARATORS.sub("", folded)
    return Query(
        node=node,
        needles=tuple(dict.fromkeys(needles)),
        id_like=bool(re.fullmatch(r"\d{4,17}[\dx]?", compact)),
        name=folded.strip() if _ONLY_CJK.match(folded.strip()) else "",
    )


def masked_text(text: str) -> str:
    """``text`` with every 4+ digit run that could be an ID number masked, for the audit trail."""
    from dangan.people.id_numbers import mask

    return re.sub(r"\d{4,17}[\dXx]?", lambda m: mask(m.group()), text)
