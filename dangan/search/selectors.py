"""Searching: ranked hits, snippets, facets and persons, only ever from visible records.

The index is asked for the best ``CANDIDATES`` matches *within the user's rights* (the grants
are turned into a filter of facet terms, so ranking happens among records the user may see),
and every candidate is then checked again against ``catalogue.selectors.visible_records``.
Hits, the count, facet numbers and snippets are all made from that checked set only: the index
narrows, the catalogue decides. When the index offers ``CANDIDATES`` matches, there may be
more: the count says "more than", and facets count the best ``CANDIDATES``.
"""

import functools
import html
import math
import re
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from dangan.accounts.selectors import record_scope
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.catalogue.models import Category, Fonds, Openness, Record, Retention
from dangan.catalogue.selectors import visible_records
from dangan.content.models import Page
from dangan.core import keyset
from dangan.digitize.models import PageProcessing
from dangan.people.id_numbers import mask
from dangan.people.models import RecordPerson

from .advanced import Advanced
from .analyzer import (
    FACETS,
    Query,
    Term,
    all_of,
    any_of,
    facet_term,
    fold,
    masked_text,
    parse_query,
)
from .backends import get_backend
from .models import SavedSearch

PAGE_SIZE = 20
#: How many matches the index ranks and hands over for checking, counting and facets.
CANDIDATES = 500
SNIPPET_WIDTH = 80
FACET_NAMES = ("fonds", "category", "year", "retention", "openness")
MODES = ("records", "persons")
_ID_RUN = re.compile(r"\d{17}[\dXx]|\d{15}")


@dataclass
class Snippet:
    html: SafeString
    page: int | None = None  # the page number, for text found on a scanned page


@dataclass
class Hit:
    record: Record
    score: float
    title: SafeString
    snippets: list = field(default_factory=list)
    persons: list = field(default_factory=list)  # (person, masked ID number)


@dataclass
class PersonHit:
    person: object
    masked_id: str
    records: int  # how many of the user's matching records concern this person
    score: float


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool = False


@dataclass
class SearchResults:
    query: str
    mode: str = "records"
    hits: list = field(default_factory=list)
    persons: list = field(default_factory=list)
    total: int = 0
    capped: bool = False  # more matches than ``CANDIDATES``: total is "more than"
    facets: dict = field(default_factory=dict)
    page: int = 1
    pages: int = 0
    #: The matches after these, as a cursor for ``search(after=…)``: set on a capped search
    #: whose matches go on beyond its ``CANDIDATES``.
    next_cursor: str | None = None
    continued: bool = False  # a block after the first (``after``)

    @property
    def has_next(self):
        return self.page < self.pages

    @property
    def has_previous(self):
        return self.page > 1


def search(
    user,
    query: str,
    *,
    filters: dict | None = None,
    page: int = 1,
    mode: str = "records",
    page_size: int = PAGE_SIZE,
    system: bool = False,
    advanced: Advanced | None = None,
    after: str | None = None,
) -> SearchResults:
    """Search the records ``user`` may see for ``query``; the search is audited.

    ``filters``: any of ``fonds`` and ``category`` (primary keys), ``year``, ``retention`` and
    ``openness``. ``mode`` "persons" answers the persons of the matching records whose name
    contains the query or whose ID number is (or ends with) it. ``system`` (the operator's
    command line without ``--user``) searches every record. ``advanced`` (``advanced.build``):
    conditions on fields and a date range, checked by the database on the candidates; with no
    words at all the newest ``CANDIDATES`` records meeting them are the candidates.
    ``after`` (a capped result's ``next_cursor``): the next ``CANDIDATES`` matches, newest
    first, found from the cursor's key (keyset paging, as fast deep as at the start);
    ``BadCursor`` when it is not such a cursor.
    """
    filters = {k: v for k, v in (filters or {}).items() if k in FACET_NAMES and v not in ("", None)}
    results = SearchResults(query=query, mode=mode, page=max(1, page), continued=bool(after))
    below = _below(after) if after else None
    parsed = parse_query(query)
    if system:
        records, scope = Record.objects.all(), None
    else:
        scope = record_scope(user)
        records = visible_records(user)
    advanced = advanced or Advanced()
    nodes = [parsed.node] if parsed else []
    words = [p.node for p in advanced.index_nodes() if p is not None]
    if words:
        nodes.append(any_of(words) if advanced.any else all_of(words))
    if (not nodes and not advanced) or (scope is None and not system):
        return results
    if parsed is None:  # conditions alone: needles from their values, for the snippets
        parsed = parse_query(" ".join(c.value for c in advanced.conditions)) or Query(
            node=None, needles=(), id_like=False, name=""
        )
    if nodes:
        within = all_of([_index_filter(scope), *_filter_terms(filters)])
        candidates, following = get_backend().search_block(
            all_of(nodes), within=within, limit=CANDIDATES, below=below
        )
        if following is not None and mode == "records":
            results.next_cursor = keyset.encode(_CURSOR_ORDER, [following], False)
    else:  # a date range alone: the newest records in it
        candidates = [
            (pk, 0.0)
            for pk in records.filter(advanced.as_q(), **_orm_filters(filters))
            .order_by("-date", "-pk")
            .values_list("pk", flat=True)[:CANDIDATES]
        ]
    scores = dict(candidates)
    rows = list(
        records.filter(advanced.as_q(), pk__in=list(scores), **_orm_filters(filters)).values_list(
            "pk", *FACET_NAMES
        )
    )
    rows.sort(key=lambda row: (-scores[row[0]], -row[0]))
    results.capped = len(candidates) >= CANDIDATES or results.next_cursor is not None
    results.facets = _facets(rows, filters)
    if mode == "persons":
        _persons(results, parsed, rows, scores, page_size)
    else:
        results.total = len(rows)
        results.pages = math.ceil(len(rows) / page_size)
        start = (results.page - 1) * page_size
        shown = [row[0] for row in rows[start : start + page_size]]
        results.hits = _hits(shown, scores, parsed)
    record_event(
        actor=None if system else user,
        action=AuditEvent.Action.SEARCH,
        object_type=Record._meta.label_lower,
        detail={
            "q": mask(query.strip()) if parsed.id_like else masked_text(query),
            "mode": mode,
            "filters": filters,
            **({"advanced": advanced.describe()} if advanced else {}),
            "found": results.total,
            **({"continued": True} if after else {}),
        },
    )
    return results


#: The order a search cursor continues: record ids going down.
_CURSOR_ORDER = ["-search_record"]


def _below(cursor: str) -> int:
    """The record id under which the block a cursor points at starts."""
    _backwards, key = keyset.decode(cursor, _CURSOR_ORDER)
    if not isinstance(key[0], int) or isinstance(key[0], bool) or key[0] <= 0:
        raise keyset.BadCursor("not a search cursor")
    return key[0]


def matching_record_ids(user, text: str, *, limit: int = CANDIDATES) -> list[int]:
    """Up to ``limit`` ids of records whose indexed words (description and page text) match
    ``text``, best first, for another page's word look-up (the record list's box). Narrowed
    in the index by the user's scope; the caller still reads them through ``visible_records``.
    Not audited: the caller's page is."""
    parsed = parse_query(text)
    scope = record_scope(user)
    if parsed is None or scope is None:
        return []
    candidates = get_backend().search(parsed.node, within=_index_filter(scope), limit=limit)
    return [pk for pk, _score in candidates]


# --- Rights and filters as index terms ---------------------------------------------------------

_SCOPE_FIELDS = {"fonds_id": "fonds", "category_id": "category", "unit_id": "unit"}


def _index_filter(q):
    """The user's scope (``record_scope``'s Q) as facet terms, or None for "no narrowing".

    Whatever this does not understand becomes "no narrowing", which can only let more
    candidates through to the authoritative check, never fewer.
    """
    if q is None:
        return None
    if isinstance(q, Q):
        if q.negated:
            return None
        parts = [_index_filter(child) for child in q.children]
        if q.connector == Q.OR:
            return None if any(p is None for p in parts) else any_of(parts)
        return all_of(parts)
    key, value = q
    if key in _SCOPE_FIELDS and value is not None:
        return Term(facet_term(FACETS[_SCOPE_FIELDS[key]], getattr(value, "pk", value)))
    if key == "unit_id__in":  # a county's units (accounts.selectors.record_scope)
        return any_of([Term(facet_term(FACETS["unit"], pk)) for pk in value])
    if key == "secrecy__lte":
        return Term(facet_term(FACETS["secrecy"], f"le{int(value)}"))
    return None


def _filter_terms(filters: dict) -> list:
    return [Term(facet_term(FACETS[name], value)) for name, value in filters.items()]


def _orm_filters(filters: dict) -> dict:
    names = {"fonds": "fonds_id", "category": "category_id"}
    return {names.get(name, name): value for name, value in filters.items()}


def _facets(rows, filters) -> dict:
    counts = {name: Counter(row[i + 1] for row in rows) for i, name in enumerate(FACET_NAMES)}
    fonds = {f.pk: f"{f.code} {f.name}" for f in Fonds.objects.filter(pk__in=counts["fonds"])}
    categories = {c.pk: c.name for c in Category.objects.filter(pk__in=counts["category"])}
    labels = {
        "fonds": fonds.get,
        "category": categories.get,
        "year": str,
        "retention": lambda v: str(Retention(v).label) if v in Retention.values else v,
        "openness": lambda v: str(Openness(v).label) if v in Openness.values else v,
    }
    facets = {}
    for name in FACET_NAMES:
        values = counts[name].most_common()
        if name == "year":
            values.sort(key=lambda item: -item[0])
        facets[name] = [
            FacetValue(
                value=str(value),
                label=labels[name](value) or str(value),
                count=count,
                selected=str(filters.get(name, "")) == str(value),
            )
            for value, count in values
        ]
    return facets


# --- Hits and snippets -----------------------------------------------------------------------


def _hits(ids: list[int], scores: dict, parsed: Query) -> list[Hit]:
    records = Record.objects.filter(pk__in=ids).select_related("fonds", "category")
    by_id = {r.pk: r for r in records.prefetch_related("persons")}
    pages = {}
    for record_id, position, state, text in (
        # Through the records' pages: a filter on the state would lead the database through
        # every finished page instead.
        PageProcessing.objects.filter(
            page__in=Page.objects.filter(record_id__in=ids, role=Page.Role.ORIGINAL).values("pk")
        )
        .order_by("page__record_id", "page__position")
        .values_list("page__record_id", "page__position", "state", "text")
    ):
        if state == PageProcessing.State.DONE and text:
            pages.setdefault(record_id, []).append((position, text))
    hits = []
    for pk in ids:
        record = by_id[pk]
        hits.append(
            Hit(
                record=record,
                score=round(scores[pk], 4),
                title=highlight(record.title, parsed.needles, width=None) or record.title,
                snippets=_snippets(record, parsed, pages.get(pk, [])),
                persons=[(p, mask(p.id_number)) for p in record.persons.all()],
            )
        )
    return hits


def _snippets(record: Record, parsed: Query, pages: list) -> list[Snippet]:
    """Up to one snippet from the description and two from page text, with page numbers."""
    found = []
    described = " · ".join(
        str(v)
        for v in [
            record.responsible,
            record.doc_number,
            record.legacy_number,
            *record.metadata.values(),
            record.remarks,
        ]
        if v not in (None, "") and not isinstance(v, bool)
    )
    marked = highlight(described, parsed.needles)
    if marked:
        found.append(Snippet(html=marked))
    for position, text in pages:
        folded = fold(text)
        if not any(needle in folded for needle in parsed.needles):
            continue
        marked = highlight(text, parsed.needles)
        if marked:
            found.append(Snippet(html=marked, page=position))
        if len(found) >= 3:
            break
    return found


@functools.lru_cache(maxsize=20000)
def _fold_char(char: str) -> str:
    return fold(char)


def highlight(text: str, needles, *, width: int | None = SNIPPET_WIDTH) -> SafeString | None:
    """``text`` (ID numbers masked) around its best match, matches in ``<mark>``, escaped; None
    when no needle occurs. Matching is on folded text: 萬 in the text is marked for 万."""
    if not text or not needles:
        return None
    text = _ID_RUN.sub(lambda m: mask(m.group()), text)
    folded = fold(text)
    if len(folded) == len(text):  # almost always: the folding kept every character's place
        origin = range(len(text))
    else:
        pieces = [(i, f) for i, char in enumerate(text) for f in _fold_char(char)]
        origin = [i for i, _f in pieces]
        folded = "".join(f for _i, f in pieces)
    spans = []
    for needle in needles:
        start = folded.find(needle)
        while start >= 0:
            spans.append((origin[start], origin[start + len(needle) - 1] + 1, needle))
            start = folded.find(needle, start + len(needle))
    if not spans:
        return None
    spans.sort()
    begin, end = 0, len(text)
    if width is not None and len(text) > width:
        best = max(
            spans,
            key=lambda s: len(
                {n for a, b, n in spans if s[0] - 10 <= a and b <= s[0] - 10 + width}
            ),
        )
        begin = max(0, best[0] - 10)
        end = min(len(text), begin + width)
    out, cursor = [], begin
    for start, stop, _needle in spans:
        if start < cursor or stop > end:
            continue
        out.append(html.escape(text[cursor:start]))
        out.append(f"<mark>{html.escape(text[start:stop])}</mark>")
        cursor = stop
    out.append(html.escape(text[cursor:end]))
    return mark_safe(("…" if begin > 0 else "") + "".join(out) + ("…" if end < len(text) else ""))


# --- Persons -----------------------------------------------------------------------------------


def _persons(results: SearchResults, parsed: Query, rows, scores, page_size) -> None:
    """Persons of the matching records whose name contains the query, or whose ID number is it
    or ends with it: the exact name first, then by their best record."""
    compact = re.sub(r"[\s\-]", "", fold(results.query))
    found = {}
    links = RecordPerson.objects.filter(record_id__in=[row[0] for row in rows]).select_related(
        "person"
    )
    for link in links:
        person = link.person
        number = person.id_number.lower()
        if parsed.id_like:
            matched = compact in (number, person.id_number_15) or (
                len(compact) < 15 and number.endswith(compact)
            )
        else:
            matched = bool(parsed.name) and parsed.name in fold(person.name)
        if not matched:
            continue
        entry = found.setdefault(
            person.pk,
            PersonHit(person=person, masked_id=mask(person.id_number), records=0, score=0.0),
        )
        entry.records += 1
        entry.score = max(entry.score, scores[link.record_id])
    ordered = sorted(
        found.values(),
        key=lambda p: (fold(p.person.name) != parsed.name, -p.score, p.person.pk),
    )
    results.total = len(ordered)
    results.pages = math.ceil(len(ordered) / page_size)
    start = (results.page - 1) * page_size
    results.persons = ordered[start : start + page_size]


MODE_LABELS = {"records": _("Records"), "persons": _("Persons")}


def saved_searches(user):
    """The user's own saved searches, by name."""
    return (
        SavedSearch.objects.filter(owner=user)
        if user.is_authenticated
        else SavedSearch.objects.none()
    )
