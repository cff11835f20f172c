"""Keeping the search index current.

Every change of a record reaches the index **in the same transaction** as the change: the
catalogue's services (create, change, file), the people admin (a corrected name) and the
digitization pipeline (a page's OCR text) call ``reindex_records``. The entry commits or rolls
back with the change it reflects, so a crash cannot leave the index silently behind. What
bypasses the services (a bulk SQL fix, an older database) is found by ``index_pending``: a
record whose ``updated_at`` differs from the copy its entry keeps, or that has no entry.
"""

import multiprocessing
import re
import time
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.http import QueryDict
from django.utils.translation import gettext as _

from dangan.accounts.models import Secrecy
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.catalogue.models import Record
from dangan.content.models import Page
from dangan.digitize.models import PageProcessing
from dangan.people import id_numbers
from dangan.people.models import RecordPerson

from .advanced import SAVED_PARAMETERS
from .analyzer import (
    ID_BAND,
    Document,
    band_term,
    code_term,
    facet_term,
    id_terms,
    name_term,
)
from .backends import get_backend
from .models import SavedSearch

BATCH = 500
#: Up to this many records, ``reindex_records`` locks them first, so that two pages of one
#: record read at the same moment cannot overwrite each other's text in the index. Larger
#: batches come from the creation of new records, which no one else can touch yet.
LOCK_LIMIT = 1000
_TOP_SECRECY = max(Secrecy.values)  # Choices.values builds a new list at every call
_ID_VALUE = re.compile(r"^\s*(\d{17}[\dXx]|\d{15})\s*$")
_RECORD_FIELDS = (
    "pk",
    "fonds_id",
    "category_id",
    "unit_id",
    "secrecy",
    "year",
    "retention",
    "openness",
    "archival_code",
    "legacy_number",
    "title",
    "responsible",
    "doc_number",
    "remarks",
    "org_code",
    "box_number",
    "metadata",
    "updated_at",
)


def reindex_records(record_ids) -> None:
    """Bring the index entries of ``record_ids`` up to date, inside the caller's transaction.

    Records that no longer exist lose their entries. Safe to call inside ``atomic()``: it
    writes only with the caller's connection and commits nothing itself.
    """
    ids = sorted({int(pk) for pk in record_ids})
    if not ids:
        return
    backend = get_backend()
    with transaction.atomic():
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            records = Record.objects.filter(pk__in=chunk)
            if len(ids) <= LOCK_LIMIT:
                records = records.select_for_update().order_by("pk")
            documents = build_documents(records)
            backend.write(documents)
            gone = set(chunk) - {d.record_id for d in documents}
            if gone:
                backend.remove(sorted(gone))


def reindex_changed_records(sender, record_ids, created=None, **kwargs) -> None:
    """``catalogue.signals.records_changed`` and ``people.signals.persons_changed``: the records'
    entries, in the sender's transaction. Records just created (``created``) are analyzed as
    the catalogue hands them over: reading them back would cost more than analyzing them."""
    if created is not None:
        index_created_records(created)
    else:
        reindex_records(record_ids)


def index_created_records(created) -> None:
    """The entries of records created in this transaction: ``[(record, [(name, ID number),
    …])]``."""
    if created:
        # New records have no entry yet: written the way a rebuild writes (COPY on PostgreSQL).
        get_backend().write_bulk(created_documents(created))


def created_documents(created) -> list[Document]:
    """The documents of records just created, from the saved objects: the same documents
    ``build_documents`` makes of them (new records have no pages)."""
    return [
        _document(tuple(getattr(record, name) for name in _RECORD_FIELDS), persons, ())
        for record, persons in created
    ]


def forget_deleted_record(sender, instance, **kwargs) -> None:
    """``post_delete`` of a record: its entry goes in the same transaction."""
    get_backend().remove([instance.pk])


def build_documents(records) -> list[Document]:
    """The analyzer's documents of ``records`` (a queryset): description, persons, page text."""
    rows = list(records.values_list(*_RECORD_FIELDS))
    if not rows:
        return []
    ids = [row[0] for row in rows]
    low, high = min(ids), max(ids)
    dense = len(ids) > 50 and high - low < 2 * len(ids)
    by_record = {"record_id__gte": low, "record_id__lte": high} if dense else {"record_id__in": ids}
    persons = defaultdict(list)
    for record_id, name, number in RecordPerson.objects.filter(**by_record).values_list(
        "record_id", "person__name", "person__id_number"
    ):
        persons[record_id].append((name, number))
    pages = defaultdict(list)
    scanned = Page.objects.filter(role=Page.Role.ORIGINAL, **by_record).values("pk")
    for record_id, state, text in (
        # Through the records' pages: a filter on the state would lead the database through
        # every finished page of the archive instead.
        PageProcessing.objects.filter(page__in=scanned)
        .order_by("page__record_id", "page__position")
        .values_list("page__record_id", "state", "text")
    ):
        if state == PageProcessing.State.DONE and text:
            pages[record_id].append(text)
    return [_document(row, persons.get(row[0], ()), pages.get(row[0], ())) for row in rows]


def _document(row, persons, pages) -> Document:
    (pk, fonds, category, unit, secrecy, year, retention, openness, code, legacy) = row[:10]
    doc = Document(record_id=pk, stamp=row[17])
    # One fold and one cut per record: the fields joined by line breaks, which end every run.
    described = [text for text in row[10:16] if text]
    described.append(f"{code or ''} {legacy} {year}")
    for value in (row[16] or {}).values():
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            text = str(value)
            described.append(text)
            if _ID_VALUE.match(text):
                doc.exact.extend(_id_terms_of(text))
    for name, number in persons:
        described.append(name)
        doc.exact.append(name_term(name))
        doc.exact.extend(id_terms(number))
    doc.add_meta("\n".join(described))
    if pages:
        doc.add_page("\n".join(pages))
    if code:
        doc.exact.append(code_term(code))
    if legacy:
        doc.exact.append(code_term(legacy))
    doc.facets = [
        facet_term("f", fonds),
        facet_term("c", category),
        facet_term("u", unit or 0),
        # "secrecy at most k" for every k the record satisfies: a grant is then one term.
        *(facet_term("s", f"le{level}") for level in range(secrecy, _TOP_SECRECY + 1)),
        facet_term("y", year),
        facet_term("r", retention),
        facet_term("o", openness),
        band_term(pk // ID_BAND),
    ]
    return doc


def _id_terms_of(text: str) -> list[str]:
    try:
        return id_terms(id_numbers.normalize(text).number)
    except Exception:  # a mistyped number in a register: still findable as typed
        return id_terms(text.strip())


def rebuild_index(*, chunk: int = 2000, progress=None, workers: int | None = None) -> dict:
    """Build the whole index again from the catalogue; returns counts and timings.

    Runs in chunks, each its own transaction, so that clerks can keep working; a record they
    change meanwhile is written by its service. Where the engine takes writes from several
    connections at once (PostgreSQL), ``workers`` processes (default: the
    ``DANGAN_SEARCH_REBUILD_WORKERS`` setting) analyze and write the chunks side by side: the
    analysis is Python, one core each.
    """
    backend = get_backend()
    started = time.monotonic()
    backend.start_rebuild()
    ranges, total = _id_ranges(chunk)
    if workers is None:
        workers = settings.DANGAN_SEARCH_REBUILD_WORKERS
    done = 0
    for written in _index_ranges(ranges, workers=workers, backend=backend):
        done += written
        if progress:
            progress(done, total)
    loaded = time.monotonic()
    backend.finish_rebuild()
    finished = time.monotonic()
    return {
        "records": done,
        "seconds": round(finished - started, 2),
        "analyze_and_load_seconds": round(loaded - started, 2),
        "index_seconds": round(finished - loaded, 2),
        "records_per_second": round(done / max(finished - started, 1e-9)),
        "size_bytes": backend.size_bytes(),
        "backend": backend.name,
        "workers": workers if _in_parallel(ranges, workers, backend) else 1,
    }


def _id_ranges(chunk: int) -> tuple[list, int]:
    """(first id, last id) of each run of ``chunk`` records, and how many records there are:
    the ids are walked once, and only the ranges kept (ten million ids held in a list were
    some 300 MB)."""
    ranges, total, first, previous = [], 0, None, None
    ids = Record.objects.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=10_000)
    for pk in ids:
        if total % chunk == 0:
            if first is not None:
                ranges.append((first, previous))
            first = pk
        previous, total = pk, total + 1
    if first is not None:
        ranges.append((first, previous))
    return ranges, total


def _in_parallel(ranges, workers, backend) -> bool:
    # Inside a transaction (a test's), other connections could not see its records.
    return (
        workers > 1
        and len(ranges) > 1
        and backend.concurrent_writes
        and not connection.in_atomic_block
    )


def _index_ranges(ranges, *, workers, backend):
    """Index the records of each (first id, last id) range; yields how many each had."""
    if not _in_parallel(ranges, workers, backend):
        for bounds in ranges:
            yield _index_range(bounds, backend=backend)
        return
    from . import workers as worker  # spawned processes: see there

    names = {alias: connections[alias].settings_dict["NAME"] for alias in connections}
    connections.close_all()  # nothing of the parent's (a lock of the truncation) stays open
    pool = multiprocessing.get_context("spawn").Pool(
        min(workers, len(ranges)), initializer=worker.start, initargs=(names,)
    )
    try:
        yield from pool.imap_unordered(worker.index_range, ranges)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def _index_range(bounds, *, backend) -> int:
    with transaction.atomic():
        documents = build_documents(Record.objects.filter(pk__gte=bounds[0], pk__lte=bounds[1]))
        backend.write_bulk(documents)
    return len(documents)


def index_pending(*, limit: int | None = None) -> dict:
    """Index what the index lacks: records without an entry or changed behind its back, and
    drop the entries of records that are gone. Returns the counts."""
    backend = get_backend()
    orphans = backend.orphan_ids()
    if orphans:
        with transaction.atomic():
            backend.remove(orphans)
    indexed, seen = 0, set()
    while limit is None or indexed < limit:
        stale = [pk for pk in backend.stale_record_ids(limit=BATCH) if pk not in seen]
        if not stale:  # none left, or only ones whose stamp cannot match (changing right now)
            break
        seen.update(stale)
        reindex_records(stale)
        indexed += len(stale)
    return {"indexed": indexed, "removed": len(orphans), "backend": backend.name}


# --- Saved searches ----------------------------------------------------------------------------


def save_search(*, owner, name: str, query: str) -> SavedSearch:
    """Keep the search page's ``query`` string under ``name`` for ``owner`` (the same name
    again replaces it). Only the parameters of a search are kept (``SAVED_PARAMETERS``)."""
    name = name.strip()
    kept = QueryDict(mutable=True)
    for key, values in QueryDict(query).lists():
        if key in SAVED_PARAMETERS:
            kept.setlist(key, [v for v in values if v.strip()][:1])
    query = kept.urlencode()
    if not name or not query:
        raise ValidationError(
            _("Give the search a name, and search before you save it."), code="empty"
        )
    with transaction.atomic():
        saved, _created = SavedSearch.objects.update_or_create(
            owner=owner, name=name[:100], defaults={"query": query}
        )
        record_event(actor=owner, action=AuditEvent.Action.CREATE, obj=saved)
    return saved


def delete_saved_search(*, owner, pk: int) -> None:
    """Forget one of ``owner``'s saved searches (another user's is not found)."""
    with transaction.atomic():
        saved = SavedSearch.objects.filter(owner=owner, pk=pk).first()
        if saved is None:
            raise ValidationError(_("There is no such saved search."), code="not_found")
        record_event(actor=owner, action=AuditEvent.Action.DELETE, obj=saved)
        saved.delete()
