"""Reading proposals: only pairs whose two objects the reader may see."""

import logging

from django.core.cache import cache
from django.db.models import QuerySet

from dangan.catalogue.models import Record
from dangan.catalogue.selectors import visible_persons, visible_records
from dangan.content.models import Page
from dangan.content.selectors import open_blob
from dangan.digitize.ingest import read_text
from dangan.digitize.models import PageProcessing
from dangan.people.models import Person
from dangan.security.permissions import has_permission

from . import page_reading
from .classifier import TEXT_CHARS, classify
from .models import DuplicateProposal

logger = logging.getLogger(__name__)
#: The formats whose first page is read for suggestions.
READ_FORMATS = {"TIFF", "JPEG", "JPEG 2000", "PNG", "PDF"}
#: The pages of a record read for its form: the first few say what the file is.
HELP_PAGES = 3


def may_review_duplicates(user) -> bool:
    """Who decides about suspected duplicates (疑似重复): archivists by default."""
    return has_permission(user, "duplicates.review")


def _visible_ids(user, kind: str):
    if kind == DuplicateProposal.Kind.PERSONS:
        return visible_persons(user).values("pk")
    if kind == DuplicateProposal.Kind.RECORDS:
        return visible_records(user).values("pk")
    return Page.objects.filter(record__in=visible_records(user)).values("pk")


def proposals_for(user, *, kind: str, state: str = DuplicateProposal.State.OPEN) -> QuerySet:
    """The proposals of ``kind`` in ``state`` both of whose objects ``user`` may see."""
    if not may_review_duplicates(user):
        return DuplicateProposal.objects.none()
    seen = _visible_ids(user, kind)
    return DuplicateProposal.objects.filter(kind=kind, state=state, a__in=seen, b__in=seen)


def open_counts(user) -> dict[str, int]:
    """How many open proposals of each kind ``user`` may decide about."""
    return {kind: proposals_for(user, kind=kind).count() for kind in DuplicateProposal.Kind.values}


def objects_of(proposals, kind: str) -> dict[int, object]:
    """The persons, records or pages the proposals name, by id (for showing them)."""
    ids = {x for p in proposals for x in (p.a, p.b)}
    if kind == DuplicateProposal.Kind.PERSONS:
        return Person.objects.in_bulk(ids)
    if kind == DuplicateProposal.Kind.RECORDS:
        return Record.objects.select_related("fonds", "category").in_bulk(ids)
    return Page.objects.select_related("record").in_bulk(ids)


def page_help(record) -> dict:
    """What ``record``'s first scanned pages say, field by field (values the record already has
    left out), and the warnings of its pages (an ID number on a page that no person of the
    record has: a file in the wrong folder). ``record`` comes from a permission-aware selector.
    """
    readings = list(
        PageProcessing.objects.filter(
            page__record=record,
            page__role=Page.Role.ORIGINAL,
            state=PageProcessing.State.DONE,
        )
        .order_by("page__position")
        .values_list("text", "suggestions")
    )
    fields: dict[str, list[str]] = {}
    for text, _found in readings[:HELP_PAGES]:
        for name, values in page_reading.read_fields(text).items():
            fields.setdefault(name, [])
            fields[name] += [v for v in values if v not in fields[name]]
    has = {
        "title": record.title,
        "date": record.date.isoformat() if record.date else "",
        "responsible": record.responsible,
        "doc_number": record.doc_number,
    }
    persons = set(record.persons.values_list("id_number", flat=True))
    fields = {
        name: [
            v
            for v in values
            if v != has.get(name) and not (name == "persons" and v[:18] in persons)
        ]
        for name, values in fields.items()
    }
    messages = [m for _text, found in readings for m in (found or {}).get("messages", [])]
    return {
        "fields": {name: values for name, values in fields.items() if values},
        "messages": list(dict.fromkeys(messages)),
    }


def unnamed_page_help(text: str) -> dict:
    """What the first page of a scan folder that matches no record says, field by field, and
    where the classifier would put it (``category`` None below the threshold)."""
    proposal = classify(page_text=text)
    return {
        "fields": page_reading.read_fields(text),
        "proposal": {**proposal.as_json(), "unit": proposal.unit},
    }


def file_page_help(blob) -> dict:
    """What the first page of an incoming file (a hand-over item's scan) says, field by field:
    read once per file (kept in the cache by its digest), ``{}`` when it cannot be read."""
    key = f"assist:file-page:{blob.sha256}"
    fields = cache.get(key)
    if fields is None:
        if blob.format_name not in READ_FORMATS:
            return {}
        try:
            with open_blob(blob) as stream:
                text = read_text(stream.read(), pdf=blob.format_name == "PDF")
        except Exception as error:  # an unreadable scan offers nothing, the form still works
            logger.warning("an incoming file could not be read for suggestions: %s", error)
            return {}
        fields = {"fields": page_reading.read_fields(text), "text": text[:TEXT_CHARS]}
        cache.set(key, fields, timeout=7 * 24 * 3600)
    return fields
