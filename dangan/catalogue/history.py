"""A record's history (its audit events) as a clerk reads it: what changed, by field label, with
the value before and after in words; never a raw dict of field keys.

``selectors.record_history`` decides which events a user may see; this only words them.
"""

from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dangan.people.models import Person

from .models import Carrier, FieldDefinition, Record

EMPTY = "—"


def history_rows(record: Record, events) -> list[dict]:
    """``events`` (newest first) with, for each, ``changes``: (label, before, after) rows, and
    ``note``: a sentence for the events that are not field changes (pages added or reordered)."""
    labels = _labels(record)
    return [
        {
            "event": event,
            "changes": _changes(event, labels),
            "note": _note(event),
            "reason": (event.detail or {}).get("reason", "")
            if isinstance(event.detail, dict)
            else "",
        }
        for event in events
    ]


def _labels(record: Record) -> dict:
    """The words a person reads for each key a record's history names: the record's fields,
    the category's metadata fields, a person's fields (Chinese by default)."""
    labels = {f.name: str(f.verbose_name) for f in Person._meta.fields if f.name != "id"}
    labels.update({f.name: str(f.verbose_name) for f in Record._meta.fields})
    labels.update({"persons": _("Persons"), "person": _("Person"), "reason": _("Reason")})
    labels.update({"page_order": _("page order")})
    labels.update(
        FieldDefinition.objects.filter(category_id=record.category_id).values_list("key", "label")
    )
    return labels


def _changes(event, labels) -> list[tuple]:
    if event.action != "update":
        return []  # a creation's values are the record's own fields, shown above the history
    before, after = event.before or {}, event.after or {}
    if event.detail and isinstance(event.detail, dict) and event.detail.get("change"):
        return []  # worded by _note
    rows = []
    for key in [*after, *(k for k in before if k not in after)]:
        old, new = before.get(key), after.get(key)
        if key == "metadata" and isinstance(old or new, dict):
            old, new = old or {}, new or {}
            for sub in [*new, *(k for k in old if k not in new)]:
                if old.get(sub) != new.get(sub):
                    rows.append((labels.get(sub, sub), _word(old.get(sub)), _word(new.get(sub))))
            continue
        rows.append((labels.get(key, key), _word(old, key, labels), _word(new, key, labels)))
    return rows


def _word(value, key: str | None = None, labels: dict | None = None) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if key == "carrier":
        return str(dict(Carrier.choices).get(value, value))
    if isinstance(value, list):
        return "、".join(_word(v, None, labels) for v in value)
    if isinstance(value, dict):
        names = labels or {}
        return "，".join(f"{names.get(k, k)}：{_word(v, k, labels)}" for k, v in value.items())
    if key:
        try:
            choices = dict(getattr(Record._meta.get_field(key), "flatchoices", ()))
        except FieldDoesNotExist:
            choices = {}
        if value in choices:
            return str(choices[value])
    return str(value)


def _note(event) -> str:
    detail = event.detail if isinstance(event.detail, dict) else {}
    change = detail.get("change")
    if change == "pages_added":
        pages = detail.get("pages", [])
        names = "、".join(p.get("filename", "") for p in pages[:5])
        return ngettext(
            "%(n)s page added: %(names)s", "%(n)s pages added: %(names)s", len(pages)
        ) % {"n": len(pages), "names": names}
    if change == "pages_reordered":
        return _("Pages put in a new order.")
    return ""
