"""Reads for the register import: its jobs, and the records a register's rows already match."""

from collections import defaultdict

from django.db.models import QuerySet

from dangan.catalogue.models import Category, Record
from dangan.core.hooks import Hook
from dangan.people.models import RecordPerson
from dangan.security.permissions import has_permission

from .models import ImportJob


def may_import_registers(user) -> bool:
    """Who imports old registers (导入台账): archivists by default."""
    return has_permission(user, "intake.import")


def jobs_for(user) -> QuerySet[ImportJob]:
    """The imports ``user`` started (an archivist sees their own uploads only)."""
    if user is None or not user.is_authenticated:
        return ImportJob.objects.none()
    return ImportJob.objects.filter(created_by=user).select_related(
        "category", "fonds", "background"
    )


def records_by_key(*, category: Category, numbers=(), id_numbers=()) -> dict[tuple, Record]:
    """Records of ``category`` already on file for rows' natural keys.

    Keys are ``("n", legacy number)`` and ``("p", 18-digit ID number of the subject)``; each
    record comes with ``subject_numbers``, the ID numbers of its persons. Not permission-filtered:
    an import must recognise a record it may not change (and then report that it may not),
    never file it a second time.
    """
    found: dict[tuple, Record] = {}
    records: dict[int, Record] = {}
    if numbers:
        for record in Record.objects.filter(
            category=category, legacy_number__in=list(numbers)
        ).order_by("id"):
            found.setdefault(("n", record.legacy_number), record)
            records[record.pk] = record
    if id_numbers:
        links = (
            RecordPerson.objects.filter(
                record__category=category,
                person__id_number__in=list(id_numbers),
                role=RecordPerson.Role.SUBJECT,
            )
            .order_by("record_id")
            .values_list("record_id", "person__id_number")
        )
        wanted = defaultdict(list)
        for record_id, number in links:
            wanted[record_id].append(number)
        missing = [pk for pk in wanted if pk not in records]
        records.update({r.pk: r for r in Record.objects.filter(pk__in=missing)})
        for record_id, numbers_of in wanted.items():
            for number in numbers_of:
                found.setdefault(("p", number), records[record_id])
    subjects = defaultdict(set)
    for record_id, number in RecordPerson.objects.filter(record_id__in=list(records)).values_list(
        "record_id", "person__id_number"
    ):
        subjects[record_id].add(number)
    for record in records.values():
        record.subject_numbers = subjects[record.pk]
    return found


# --- Hand-over lists -----------------------------------------------------------------------------
def handover_lists_for(user) -> QuerySet:
    """The hand-over lists ``user`` may see: a clerk, their own unit's (drafts included); an
    archivist, every list sent to the archive (never a draft); anyone else, none."""
    from .handover import is_clerk
    from .models import HandoverList

    lists = HandoverList.objects.select_related("unit", "category", "fonds", "sent_by")
    if user is None or not user.is_authenticated or not user.is_active:
        return lists.none()
    if is_clerk(user):
        return lists.filter(unit_id=user.unit_id)
    if has_permission(user, "intake.receive"):
        return lists.exclude(state=HandoverList.State.DRAFT)
    return lists.none()


def handover_history(handover) -> list:
    """Every version of the list ``handover`` belongs to, oldest first."""
    first = handover
    while first.previous_id:
        first = first.previous
    versions, current = [], first
    while current is not None:
        versions.append(current)
        current = current.next_versions.first()
    return versions


def items_with_files(handover, *, items=None) -> list:
    """The list's items in order, each with ``staged``: its files in page order, read in one
    query whatever the length of the list (a package of a thousand items)."""
    from .models import ItemFile

    items = list((handover.items.all() if items is None else items).order_by("position"))
    by_item = defaultdict(list)
    for staged in (
        ItemFile.objects.filter(item__handover=handover)
        .select_related("blob")
        .order_by("item_id", "position")
    ):
        by_item[staged.item_id].append(staged)
    for item in items:
        item.staged = by_item[item.pk]
    return items


#: Where files belong, by their titles and responsible parties: a list of ``{"category": code or
#: None, "retention", "confidence"}`` (answered by assist: ``assist.classifier.classify_many``).
classify_files = Hook("where incoming files belong, by their titles and responsible parties")


def handover_items(handover, *, with_proposals=False) -> list:
    """The items as the list's page shows them: files, answers, records, corrected items;
    ``with_proposals``: each with ``proposal``, the category the classifier proposes, and
    ``elsewhere`` when that is not the list's category."""
    items = items_with_files(
        handover,
        items=handover.items.select_related("decision__decided_by", "record", "corrects__decision"),
    )
    if with_proposals and items:
        texts = [f"{i.values.get('title', '')} {i.values.get('responsible', '')}" for i in items]
        for item, proposal in zip(items, classify_files(texts), strict=True):
            item.proposal = proposal
            item.elsewhere = bool(proposal["category"]) and (
                proposal["category"] != handover.category.code
            )
    return items


#: What the first page of an incoming file says: ``{"fields": {title, date, responsible,
#: doc_number, persons: [values]}, "text": the head of its text}``, ``{}`` when it cannot be read
#: (answered by assist: ``assist.selectors.file_page_help``).
read_file_page = Hook("what the first page of an incoming file says, field by field")

#: The item form's fields each of the page's fields fills.
_ITEM_FIELDS = {
    "title": "title",
    "date": "date",
    "responsible": "responsible",
    "doc_number": "doc_number",
}


def item_page_help(item) -> dict:
    """What the item's first uploaded page says beside the item form's fields (values the item
    has already left out; a person's line split into ``person_id`` and ``person_name``), and
    where the classifier would put the item (``proposal``, ``elsewhere`` when that is not the
    list's category)."""
    first = item.files.select_related("blob").order_by("position").first()
    read = read_file_page(first.blob) if first is not None else {}
    found = read.get("fields") or {}
    has = {**item.values, **((item.persons or [{}])[0] if item.persons else {})}
    fields: dict[str, list[str]] = {}
    for source, target in _ITEM_FIELDS.items():
        values = [v for v in found.get(source, []) if v != has.get(target)]
        if values:
            fields[target] = values
    for line in found.get("persons", []):
        number, _space, name = line.partition(" ")
        if number != has.get("id_number"):
            fields.setdefault("person_id", []).append(number)
        if name and name != has.get("name"):
            fields.setdefault("person_name", []).append(name)
    title = item.values.get("title", "")
    responsible = item.values.get("responsible", "")
    (proposal,) = classify_files([f"{title} {responsible} {read.get('text', '')}".strip()])
    return {
        "fields": fields,
        "proposal": proposal if proposal["category"] else None,
        "elsewhere": bool(proposal["category"])
        and proposal["category"] != item.handover.category.code,
    }
