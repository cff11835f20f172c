"""The audit trail's export (CSV or Excel), written row by row into a file.

The security auditor's export of millions of events is a background job (``dangan.jobs``).
The jobs app stands to the right of audit in the ground layer (it audits its own work), so
audit may not import it: the page asks the hook ``start_trail_export`` and the app that
registers the export's job kind (``ops.audit_jobs``) answers it.
"""

import csv
import datetime
import io

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangan.core.hooks import Hook
from dangan.spreadsheets import Spreadsheet, csv_cell

#: ``start_trail_export(owner=, filters=, fmt=)``: queue the export, return the job (a model
#: instance whose ``get_absolute_url`` is its page).
start_trail_export = Hook("the audit trail's export as a background job")

FORMATS = ("csv", "xlsx")
#: Rows read from the database at a time: memory stays flat however long the trail is.
CHUNK = 2000

COLUMNS = [
    ("id", gettext_lazy("No.")),
    ("at", gettext_lazy("time")),
    ("actor_name", gettext_lazy("who")),
    ("action", gettext_lazy("action")),
    ("object_type", gettext_lazy("object type")),
    ("object_id", gettext_lazy("object")),
    ("object_repr", gettext_lazy("object (as shown)")),
    ("ip", gettext_lazy("address")),
    ("before", gettext_lazy("before")),
    ("after", gettext_lazy("after")),
    ("detail", gettext_lazy("detail")),
    ("digest", gettext_lazy("digest")),
]
_DAYS = ("since", "until")


def filters_as_params(selection: dict) -> dict:
    """The trail's filters (``TrailFilterForm.selection()``) as a job keeps them (JSON)."""
    return {k: v.isoformat() if isinstance(v, datetime.date) else v for k, v in selection.items()}


def filters_from_params(params: dict) -> dict:
    """``filters_as_params`` undone: the keyword arguments of ``selectors.audit_trail``."""
    return {k: datetime.date.fromisoformat(v) if k in _DAYS else v for k, v in params.items() if v}


def _cells(event) -> list:
    """The event's columns, typed; ``dangan.spreadsheets`` keeps formula-like text as text."""
    at = timezone.localtime(event.at).replace(microsecond=0, tzinfo=None)
    return [at if key == "at" else getattr(event, key) for key, _label in COLUMNS]


def write_trail(events, *, fmt: str, out, progress=None) -> int:
    """Write ``events`` (a queryset) into ``out`` (a binary file) as CSV or Excel; the rows
    written. ``progress(rows written)`` is called every 1,000 rows."""
    header = [str(label) for _key, label in COLUMNS]
    rows = events.select_related(None).iterator(chunk_size=CHUNK)
    count = 0
    if fmt == "csv":
        # utf-8-sig: the BOM makes Excel read the UTF-8 as UTF-8
        text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
        writer = csv.writer(text)
        writer.writerow(header)
        for count, event in enumerate(rows, start=1):
            writer.writerow([csv_cell(value) for value in _cells(event)])
            if progress is not None and count % 1000 == 0:
                progress(count)
        text.flush()
        text.detach()  # ``out`` stays open: the job closes it
        return count
    sheet = Spreadsheet(_("Audit trail"))
    sheet.append(header)
    for count, event in enumerate(rows, start=1):
        sheet.append(_cells(event))
        if progress is not None and count % 1000 == 0:
            progress(count)
    sheet.save(out)
    return count
