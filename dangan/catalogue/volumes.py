"""组卷: assembling items into a volume (案卷), its in-volume list (卷内目录) and note (备考表).

Person files (retirees', cadre personnel) are kept as volumes: a record of level ``volume``
whose items point to it (``Record.volume``) in an order (``Record.volume_position``). The volume
is filed and numbered like any record, by its category's code template; its items keep their
own item codes (DA/T 22). Pages run on through the items (页号): an item's pages are its
catalogued page count (页数) or, without one, the number of its original pages.

Assembling changes each item moved: its volume is among the fields the ledger digests, so an
item that enters or leaves a volume gets its ``record.changed`` entry; every moved item gets its
audit event, and the volume one listing its items in order.
"""

import datetime
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.accounts.selectors import may_write_record
from dangan.audit.models import AuditEvent
from dangan.audit.services import Event, record_events
from dangan.pdf import render_pdf
from dangan.spreadsheets import Spreadsheet

from .models import Level, Record, VolumeNote
from .services import _reindex, _to_ledger, written

STYLESHEET = Path(__file__).with_name("volume.css")


@dataclass
class Line:
    """One line of the in-volume list: the item, its number (序号) and its pages (页号)."""

    number: int
    record: Record
    pages: int
    first_page: int

    @property
    def last_page(self) -> int:
        return self.first_page + max(self.pages, 1) - 1


def _refuse(message, code):
    raise ValidationError(message, code=code)


def assemble_volume(*, actor, volume: Record, items: list[Record]) -> list[Record]:
    """Make ``items`` (records of level item, in this order) the contents of ``volume``; items
    it held before and are not listed leave it. Audited and under the ledger."""
    if volume.level != Level.VOLUME:
        _refuse(_("%(record)s is not a volume.") % {"record": volume}, "not_a_volume")
    if len({item.pk for item in items}) != len(items):
        _refuse(_("An item is listed twice."), "item_twice")
    with transaction.atomic():
        Record.objects.select_for_update().filter(pk=volume.pk).exists()
        # As they are now, not as the caller read them: another clerk may have moved one.
        fresh = Record.objects.select_related("volume").in_bulk([item.pk for item in items])
        items = [fresh[item.pk] for item in items]
        _check_items(actor, volume, items)
        before = list(
            Record.objects.filter(volume=volume)
            .order_by("volume_position")
            .values_list("pk", flat=True)
        )
        wanted = {item.pk: position for position, item in enumerate(items, start=1)}
        touched = Record.objects.select_for_update().filter(Q(volume=volume) | Q(pk__in=wanted))
        events, entries = [], []
        for record in touched.select_related("fonds", "category"):
            old = (record.volume_id, record.volume_position)
            record.volume = volume if record.pk in wanted else None
            record.volume_position = wanted.get(record.pk)
            if old == (record.volume_id, record.volume_position):
                continue
            record.save(update_fields=["volume", "volume_position", "updated_at"])
            events.append(
                Event(
                    action=AuditEvent.Action.UPDATE,
                    obj=record,
                    before={"volume": old[0], "volume_position": old[1]},
                    after={"volume": record.volume_id, "volume_position": record.volume_position},
                )
            )
            if old[0] != record.volume_id:  # the volume is among the fields the ledger digests
                entries.append(written(record, "changed"))
        after = list(wanted)
        if after != before:
            events.append(
                Event(
                    action=AuditEvent.Action.UPDATE,
                    obj=volume,
                    before={"items": before},
                    after={"items": after},
                    detail={"change": "volume_assembled"},
                )
            )
        record_events(actor=actor, events=events)
        _to_ledger(actor, entries)
        _reindex([volume.pk, *{*before, *after}])
    return volume_items(volume)


def _check_items(actor, volume, items) -> None:
    for record in [volume, *items]:
        if actor is not None and not may_write_record(actor, record):
            raise PermissionDenied(_("You may not change %(record)s.") % {"record": record})
    for item in items:
        if item.level != Level.ITEM or item.pk == volume.pk:
            _refuse(_("%(record)s is not an item.") % {"record": item}, "not_an_item")
        if item.fonds_id != volume.fonds_id:
            _refuse(
                _("%(record)s belongs to another fonds than the volume.") % {"record": item},
                "other_fonds",
            )
        if item.volume_id not in (None, volume.pk):
            _refuse(
                _("%(record)s is already in volume %(volume)s.")
                % {"record": item, "volume": item.volume},
                "in_other_volume",
            )
        if item.state == Record.State.DESTROYED:
            _refuse(_("%(record)s was destroyed.") % {"record": item}, "record_destroyed")


def volume_items(volume: Record) -> list[Record]:
    """The volume's items in their order."""
    return list(
        Record.objects.filter(volume=volume)
        .select_related("fonds", "category")
        .order_by("volume_position", "pk")
    )


def volume_lines(items: list[Record]) -> list[Line]:
    """The in-volume list of ``items`` (in order) with running page numbers."""
    originals = dict(
        Record.objects.filter(pk__in=[item.pk for item in items])
        .annotate(n=Count("pages", filter=Q(pages__role="original")))
        .values_list("pk", "n")
    )
    lines, next_page = [], 1
    for number, item in enumerate(items, start=1):
        pages = item.page_count or originals.get(item.pk, 0)
        lines.append(Line(number=number, record=item, pages=pages, first_page=next_page))
        next_page += max(pages, 1)
    return lines


def save_note(*, actor, volume: Record, **fields) -> VolumeNote:
    """Write the volume's note (备考表): ``notes``, ``compiled_by``, ``compiled_on``,
    ``checked_by``, ``checked_on``. Audited."""
    if volume.level != Level.VOLUME:
        _refuse(_("%(record)s is not a volume.") % {"record": volume}, "not_a_volume")
    if actor is not None and not may_write_record(actor, volume):
        raise PermissionDenied(_("You may not change %(record)s.") % {"record": volume})
    with transaction.atomic():
        note, _created = VolumeNote.objects.select_for_update().get_or_create(volume=volume)
        before = {name: _plain(getattr(note, name)) for name in fields}
        for name, value in fields.items():
            setattr(note, name, value)
        note.full_clean()
        note.save()
        after = {name: _plain(getattr(note, name)) for name in fields}
        if before != after:
            record_events(
                actor=actor,
                events=[
                    Event(
                        action=AuditEvent.Action.UPDATE,
                        obj=volume,
                        before=before,
                        after=after,
                        detail={"change": "volume_note"},
                    )
                ],
            )
    return note


def _plain(value):
    return value.isoformat() if isinstance(value, datetime.date) else value


def volume_pdf(volume: Record) -> bytes:
    """The in-volume list (卷内目录) and the volume note (备考表) of ``volume`` as one PDF/A-2b
    (WeasyPrint, Noto CJK embedded), the list on the first pages, the note on its own."""
    lines = volume_lines(volume_items(volume))
    note = VolumeNote.objects.filter(volume=volume).first()
    html = render_to_string(
        "catalogue/volume.html",
        {
            "volume": volume,
            "lines": lines,
            "pages": lines[-1].last_page if lines else 0,
            "note": note,
            "printed": timezone.localdate(),
        },
    )
    return render_pdf(html, stylesheets=[STYLESHEET], pdfa=True)


def volume_xlsx(volume: Record) -> bytes:
    """The in-volume list (卷内目录) as an Excel workbook (``dangan.spreadsheets``): the volume's
    code and title, one row per item in its order — 序号, 档号, 文号, 责任者, 题名, 日期 (a date
    cell), 页号 (the last item its first and last page), 备注 — then the volume note (备考表)."""
    lines = volume_lines(volume_items(volume))
    sheet = Spreadsheet(_("In-volume list"), widths=(6, 24, 22, 18, 48, 12, 10, 24), freeze="A4")
    sheet.append([_("In-volume list")], bold=True, size=14)
    sheet.append([_("Archival code"), volume.archival_code or "", _("Title"), volume.title])
    sheet.append(
        [
            _("No."),
            _("Archival code"),
            _("Document number"),
            _("Responsible party"),
            _("Title"),
            _("Date"),
            _("Page"),
            _("Remarks"),
        ],
        bold=True,
    )
    for line in lines:
        last = line is lines[-1]
        sheet.append(
            [
                line.number,
                line.record.archival_code or "",
                line.record.doc_number,
                line.record.responsible,
                line.record.title,
                line.record.date,
                f"{line.first_page}-{line.last_page}" if last else line.first_page,
                line.record.remarks,
            ]
        )
    note = VolumeNote.objects.filter(volume=volume).first()
    pages = lines[-1].last_page if lines else 0
    sheet.append([])
    sheet.append([_("Volume note")], bold=True)
    sheet.append([_("Items"), len(lines), _("Pages"), pages])
    sheet.append([_("Notes on the items"), note.notes if note else ""])
    sheet.append(
        [
            _("Arranged by"),
            note.compiled_by if note else "",
            _("Arranged on"),
            note.compiled_on if note else None,
        ]
    )
    sheet.append(
        [
            _("Checked by"),
            note.checked_by if note else "",
            _("Checked on"),
            note.checked_on if note else None,
        ]
    )
    return sheet.to_bytes()
