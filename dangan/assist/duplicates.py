"""Finding duplicates (查重): persons, records and pages that look like one, with a score and why.

Each finder reads the whole holdings once and compares only objects that share a *blocking key*
(the same date of birth and sex, the same document number, the same band of a page's
fingerprint …), never all pairs: a county's 100,000 persons are scanned in seconds. What they
find are proposals (``Found``); ``services.scan_duplicates`` stores them for a person to decide.

Persons are proposed only when their dates of birth and sexes agree (both are read from the ID
number, so a twin whose typo is in the date of birth is a different person to the machine, and
is left to people) and their names agree as written, in simplified and traditional characters,
or as said (homophones, 刘伟 and 柳炜); and then only when their ID numbers are related (one the
old 15-digit form of the other, one digit apart, two adjacent digits swapped, only the region
part differs) or, with unrelated numbers, when they share a unit.
"""

import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _

from dangan.catalogue.models import Record
from dangan.content.models import Page
from dangan.people.id_numbers import upgrade_15
from dangan.people.models import Person, RecordPerson
from dangan.people.names import fold, sound
from dangan.search.analyzer import fold as fold_text

from . import fingerprints
from .models import PageFingerprint

PERSONS, RECORDS, PAGES = "persons", "records", "pages"
KINDS = (PERSONS, RECORDS, PAGES)
#: A block of candidates larger than this is compared by its keys only, never pair by pair.
_BLOCK = 40


@dataclass(frozen=True)
class Found:
    """A proposed pair: ``a`` < ``b`` (database ids), how sure (0–1), and why (reason codes)."""

    kind: str
    a: int
    b: int
    score: float
    reason: str


def _pair(kind, x: int, y: int, score: float, reasons: Iterable[str]) -> Found:
    a, b = sorted((x, y))
    return Found(kind=kind, a=a, b=b, score=round(score, 3), reason="+".join(reasons))


#: Why, in words (the reason codes joined by "+" in ``Found.reason``).
REASONS = {
    "id_15_18": lambda: _("one ID number is the old 15-digit form of the other"),
    "id_typo": lambda: _("the ID numbers differ in one digit"),
    "id_swap": lambda: _("the ID numbers differ by two neighbouring digits swapped"),
    "id_region": lambda: _("the ID numbers differ only in the region code"),
    "id_other": lambda: _("different ID numbers"),
    "name_same": lambda: _("the same name"),
    "name_script": lambda: _("the same name in simplified and traditional characters"),
    "name_sound": lambda: _("names that sound the same"),
    "birth_sex": lambda: _("the same date of birth and sex"),
    "unit": lambda: _("records in the same unit"),
    "same_file": lambda: _("the very same file"),
    "image": lambda: _("the same image (perceptual hash)"),
    "title": lambda: _("the same title"),
    "title_near": lambda: _("nearly the same title"),
    "date": lambda: _("the same date"),
    "year": lambda: _("the same year, no date"),
    "persons": lambda: _("the same persons"),
    "doc_number": lambda: _("the same document number"),
    "same_fonds": lambda: _("in the same fonds"),
    "other_fonds": lambda: _("in different fonds"),
    "same_record": lambda: _("in the same record"),
    "other_record": lambda: _("in different records"),
}


def describe(reason: str) -> str:
    """The reason codes of a proposal in words, in the active language."""
    codes = reason.split("+")
    return "; ".join(str(REASONS[code]()) if code in REASONS else code for code in codes)


# --- persons ---------------------------------------------------------------------------------


@dataclass
class _Person:
    pk: int
    number: str
    old: str  # the 15-digit form kept for it
    name: str
    folded: str
    sex: str
    birth: object
    _sound: str | None = None

    @property
    def said(self) -> str:
        if self._sound is None:
            self._sound = sound(self.folded)
        return self._sound

    @property
    def body(self) -> str:
        """The 17 digits before the check digit, of the 18-digit form."""
        number = upgrade_15(self.number) if len(self.number) == 15 else self.number
        return number[:17]

    def keys(self) -> list:
        body = self.body
        # Date of birth and sex agree within a block; the rest of the number may differ.
        varying = [*range(6), 14, 15, 16]
        keys = [("n", self.folded), ("r", body[6:])]
        keys += [("d", i, body[:i] + body[i + 1 :]) for i in varying]
        keys += [("o", body[:14] + "".join(sorted(body[14:16])) + body[16])]
        keys += [("s", self.said)]
        return keys


def _number_relation(p: _Person, q: _Person) -> str:
    forms_p = {p.number, p.old, p.number[:6] + p.number[8:17]} - {""}
    forms_q = {q.number, q.old, q.number[:6] + q.number[8:17]} - {""}
    if p.body == q.body or forms_p & forms_q:
        return "id_15_18"
    a, b = p.body, q.body
    differ = [i for i in range(17) if a[i] != b[i]]
    if len(differ) == 1:
        return "id_typo"
    if len(differ) == 2 and differ[1] == differ[0] + 1 and a[differ[0]] == b[differ[1]]:
        if a[differ[1]] == b[differ[0]]:
            return "id_swap"
    if all(i < 6 for i in differ):
        return "id_region"
    return "id_other"


def _name_relation(p: _Person, q: _Person) -> str | None:
    if p.name == q.name:
        return "name_same"
    if p.folded == q.folded:
        return "name_script"
    if p.said == q.said:
        return "name_sound"
    return None


_NUMBER_SCORE = {"id_15_18": 0.99, "id_typo": 0.95, "id_swap": 0.95, "id_region": 0.9}
_NAME_FACTOR = {"name_same": 1.0, "name_script": 1.0, "name_sound": 0.92}


def person_pairs(progress=None) -> list[Found]:
    """Persons on file twice: every pair proposed once, best reason first."""
    blocks: dict[tuple, list[_Person]] = defaultdict(list)
    rows = Person.objects.filter(merged_into__isnull=True).values_list(
        "pk", "id_number", "id_number_15", "name", "name_folded", "sex", "birth_date"
    )
    for pk, number, old, name, folded, sex, birth in rows.iterator(chunk_size=5000):
        person = _Person(pk, number, old, name, folded or fold(name), sex, birth)
        blocks[(birth, sex)].append(person)
    candidates: list[tuple[_Person, _Person]] = []
    for members in blocks.values():
        if len(members) < 2:
            continue
        if len(members) <= _BLOCK:
            candidates += itertools.combinations(members, 2)
            continue
        by_key: dict = defaultdict(list)
        for person in members:
            for key in person.keys():
                by_key[key].append(person)
        seen = set()
        for sharing in by_key.values():
            for p, q in itertools.combinations(sharing, 2):
                if (p.pk, q.pk) not in seen:
                    seen.add((p.pk, q.pk))
                    candidates.append((p, q))
    found, unrelated = [], []
    for p, q in candidates:
        names = _name_relation(p, q)
        if names is None:
            continue
        numbers = _number_relation(p, q)
        if numbers == "id_other":
            unrelated.append((p, q, names))
            continue
        score = _NUMBER_SCORE[numbers] * _NAME_FACTOR[names]
        found.append(_pair(PERSONS, p.pk, q.pk, score, [numbers, names, "birth_sex"]))
    found += _sharing_a_unit(unrelated)
    return sorted(found, key=lambda f: (-f.score, f.a, f.b))


def _sharing_a_unit(pairs) -> list[Found]:
    """Unrelated numbers, the same name, date of birth and sex: proposed only when their
    records lie in one unit (two namesakes born the same day in one unit are rare; across a
    province they are not)."""
    if not pairs:
        return []
    wanted = {p.pk for pair in pairs for p in pair[:2]}
    units: dict[int, set] = defaultdict(set)
    links = RecordPerson.objects.filter(person_id__in=wanted).values_list(
        "person_id", "record__unit_id"
    )
    for person_id, unit_id in links.iterator(chunk_size=5000):
        units[person_id].add(unit_id)
    found = []
    for p, q, names in pairs:
        if units[p.pk] & units[q.pk]:
            reasons = ["id_other", names, "birth_sex", "unit"]
            found.append(_pair(PERSONS, p.pk, q.pk, 0.75 * _NAME_FACTOR[names], reasons))
    return found


# --- records ---------------------------------------------------------------------------------

_NOT_WORDS = re.compile(r"[\W_]+")


def _title_key(title: str) -> str:
    return _NOT_WORDS.sub("", fold_text(title or ""))


def _bigrams(text: str) -> set:
    return {text[i : i + 2] for i in range(len(text) - 1)} or {text}


def _near(a: str, b: str) -> bool:
    """Titles alike but for a character or two (a typo, a bracket): bigram overlap ≥ 0.85."""
    if abs(len(a) - len(b)) > max(2, len(a) // 8):
        return False
    x, y = _bigrams(a), _bigrams(b)
    return len(x & y) / len(x | y) >= 0.85


def record_pairs(progress=None) -> list[Found]:
    """The same file catalogued twice, in one fonds or two: the same title (or nearly), date (or,
    without one, year), persons and document number (when both have one)."""
    persons: dict[int, tuple] = defaultdict(tuple)
    links = RecordPerson.objects.order_by("record_id", "person_id").values_list(
        "record_id", "person_id"
    )
    for record_id, person_id in links.iterator(chunk_size=20000):
        persons[record_id] += (person_id,)
    rows = (
        Record.objects.exclude(state=Record.State.DESTROYED)
        .values_list("pk", "fonds_id", "title", "date", "year", "doc_number")
        .order_by("pk")
    )
    blocks: dict[tuple, list] = defaultdict(list)
    for pk, fonds_id, title, date, year, doc_number in rows.iterator(chunk_size=20000):
        item = (pk, fonds_id, _title_key(title), date, year, _title_key(doc_number))
        who = persons.get(pk, ())
        blocks[("t", item[2], date or year, who)].append(item)
        if item[5]:
            blocks[("n", item[5], date or year)].append(item)
    found: dict[tuple, Found] = {}
    for members in blocks.values():
        if len(members) < 2 or len(members) > _BLOCK * 5:
            continue
        for x, y in itertools.combinations(members, 2):
            if (x[0], y[0]) in found or persons.get(x[0], ()) != persons.get(y[0], ()):
                continue
            pair = _compare_records(x, y, with_persons=bool(persons.get(x[0])))
            if pair:
                found[(x[0], y[0])] = pair
    return sorted(found.values(), key=lambda f: (-f.score, f.a, f.b))


def _compare_records(x, y, *, with_persons: bool) -> Found | None:
    pk_x, fonds_x, title_x, date_x, year_x, number_x = x
    pk_y, fonds_y, title_y, date_y, year_y, number_y = y
    if not title_x or not title_y:
        return None
    if title_x == title_y:
        reasons, score = ["title"], 0.9
    elif _near(title_x, title_y):
        reasons, score = ["title_near"], 0.8
    else:
        return None
    if date_x and date_y:
        if date_x != date_y:
            return None
        reasons.append("date")
    elif date_x or date_y or year_x != year_y:
        return None
    else:
        reasons.append("year")
    if number_x and number_y:
        if number_x != number_y:
            return None
        reasons.append("doc_number")
        score += 0.09
    if with_persons:
        reasons.append("persons")
    reasons.append("same_fonds" if fonds_x == fonds_y else "other_fonds")
    return _pair(RECORDS, pk_x, pk_y, score, reasons)


# --- pages -----------------------------------------------------------------------------------


def page_pairs(progress=None) -> list[Found]:
    """Pages scanned twice, in one record or two: the same stored file, or fingerprints closer
    than ``fingerprints.SAME_PAGE_BITS``. Run ``services.fingerprint_pages`` first."""
    pages = Page.objects.filter(role=Page.Role.ORIGINAL).values_list("pk", "record_id", "blob_id")
    by_blob: dict[int, list] = defaultdict(list)
    record_of = {}
    for pk, record_id, blob_id in pages.iterator(chunk_size=20000):
        by_blob[blob_id].append(pk)
        record_of[pk] = record_id
    found: dict[tuple, Found] = {}

    def where(p, q):
        return "same_record" if record_of.get(p) == record_of.get(q) else "other_record"

    for same in by_blob.values():
        for p, q in itertools.combinations(same, 2):
            pair = _pair(PAGES, p, q, 1.0, ["same_file", where(p, q)])
            found[(pair.a, pair.b)] = pair
    hashes = dict(
        PageFingerprint.objects.exclude(dhash="")
        .filter(page__role=Page.Role.ORIGINAL)
        .values_list("page_id", "dhash")
    )
    by_band: dict[str, list] = defaultdict(list)
    for pk, value in hashes.items():
        for band in fingerprints.bands(value):
            by_band[band].append(pk)
    for sharing in by_band.values():
        if len(sharing) > 200:  # a band every page shares tells nothing
            continue
        for p, q in itertools.combinations(sorted(sharing), 2):
            if (p, q) in found:
                continue
            bits = fingerprints.distance(hashes[p], hashes[q])
            if bits <= fingerprints.SAME_PAGE_BITS:
                score = 1.0 - bits / (4 * fingerprints.SAME_PAGE_BITS)
                found[(p, q)] = _pair(PAGES, p, q, score, ["image", where(p, q)])
    return sorted(found.values(), key=lambda f: (-f.score, f.a, f.b))


FINDERS = {PERSONS: person_pairs, RECORDS: record_pairs, PAGES: page_pairs}


def find(kind: str) -> Iterator[Found]:
    yield from FINDERS[kind]()
