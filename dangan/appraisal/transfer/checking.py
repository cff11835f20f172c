"""Reading and checking a transfer package, nothing written: every XML file against our schemas,
codes and references against this instance, then the transfer-stage four-property checks
(DA/T 70, ``integrity.checks``)."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from lxml import etree

from dangan.accounts.models import Unit
from dangan.catalogue.models import Category, Fonds, Record
from dangan.intake.packages import bag_files, read_bag, verify_bag
from dangan.integrity import checks as integrity

from .layout import (
    CATALOGUE,
    DESCRIPTION,
    FIELDS,
    METADATA_NAME,
    qualified,
    schema,
    untyped_value,
)


@dataclass
class Item:
    """One record of a package, read from its 元数据.xml."""

    directory: str
    code: str
    sequence: int
    fonds: str
    category: str
    unit: str
    values: dict
    metadata: dict
    persons: list  # (id_number, name)
    files: list  # dicts: page, path, size, sha256, sm3, filename
    relations: list = ()  # (kind, archival code of the record pointed to)


class Unreadable(Exception):
    """A package file that is not what our schemas describe (said in a translated line)."""


def parse_xml(member, name: str) -> etree._Element:
    """One XML file of a package whose bag was verified (``verify_bag``) before."""
    with member.open() as stream:
        data = stream.read(member.size)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise Unreadable(
            _("%(file)s is not well-formed XML (%(error)s).") % {"file": name, "error": error}
        ) from None


def read_item(root, directory: str) -> Item:
    values = {}
    for node in root.iterfind(qualified("field")):
        values[node.get("name")] = node.text or ""
    return Item(
        directory=directory,
        code=root.get("code"),
        sequence=int(root.get("sequence")),
        fonds=root.findtext(qualified("fonds")) or "",
        category=root.findtext(qualified("category")) or "",
        unit=root.findtext(qualified("unit")) or "",
        values=values,
        metadata={
            node.get("name"): untyped_value(node.get("type"), node.text)
            for node in root.iterfind(qualified("value"))
        },
        persons=[
            (node.get("id_number"), node.text or "") for node in root.iterfind(qualified("person"))
        ],
        relations=[
            (node.get("kind"), node.get("code")) for node in root.iterfind(qualified("relation"))
        ],
        files=[
            {
                "page": int(node.get("page")),
                "path": node.get("path"),
                "size": int(node.get("size")),
                "sha256": node.get("sha256"),
                "sm3": node.get("sm3"),
                "filename": node.text or "",
            }
            for node in root.iterfind(qualified("file"))
        ],
    )


def _item(member, name: str, directory: str, transfer_schema, problems: list) -> Item | None:
    """The item of a metadata file, its values readable as the catalogue takes them; None (the
    reasons added to ``problems``) when it is not."""
    root = parse_xml(member, name)
    if not transfer_schema.validate(root):
        problems += [f"{name}: {e}" for e in transfer_schema.error_log][:5]
        return None
    try:
        item = read_item(root, directory)
        clean_values(item.values)
    except (ValueError, TypeError, ValidationError) as error:
        messages = getattr(error, "messages", None) or [str(error)]
        problems.append(
            _("%(file)s: a value the catalogue cannot take (%(error)s).")
            % {"file": name, "error": " ".join(messages)}
        )
        return None
    return item


def clean_values(values: dict) -> dict:
    """Field texts as the catalogue takes them (empty text: the field's empty value)."""
    out = {}
    for name, text in values.items():
        if name not in FIELDS:
            continue
        field = Record._meta.get_field(name)
        if text == "":
            out[name] = None if field.null else ""
            continue
        out[name] = field.to_python(text)
    return out


@dataclass
class Reading:
    """What a package holds, once read and checked."""

    bag: object
    items: list
    errors: dict  # item directory -> problems
    catalogue: dict
    files: dict | None = None  # bag path -> the check engine's FileEntry
    #: Receiving into this instance: codes already on file and unknown references are errors
    #: (not when the sending side checks what it wrote).
    receiving: bool = True


def _describe(bag, reading: Reading):
    """The check engine's items, with what is wrong with each (schema, codes, references)."""
    transfer_schema, eep_schema = schema("transfer.xsd"), schema("eep.xsd")
    entries = []
    if CATALOGUE not in bag.members:
        reading.errors["-"] = [_("The catalogue file %(file)s is missing.") % {"file": CATALOGUE}]
        return [integrity.ItemEntry(position=0, label="-", metadata_errors=reading.errors["-"])]
    try:
        catalogue = parse_xml(bag.members[CATALOGUE], CATALOGUE)
    except Unreadable as error:
        reading.errors["-"] = [str(error)]
        return [integrity.ItemEntry(position=0, label="-", metadata_errors=reading.errors["-"])]
    if not transfer_schema.validate(catalogue):
        reading.errors["-"] = [f"{CATALOGUE}: {e}" for e in transfer_schema.error_log][:20]
    reading.catalogue = dict(catalogue.attrib)
    existing = set(
        Record.objects.filter(
            archival_code__in=[n.get("code") for n in catalogue.iterfind(qualified("item"))]
        ).values_list("archival_code", flat=True)
    )
    known_units = set(Unit.objects.values_list("code", flat=True))
    known_categories = set(Category.objects.values_list("code", flat=True))
    known_fonds = set(Fonds.objects.values_list("code", flat=True))
    for position, node in enumerate(catalogue.iterfind(qualified("item")), start=1):
        directory = node.get("path") or ""
        problems = []
        metadata_name = f"data/{directory}/{METADATA_NAME}"
        eep_name = f"data/{directory}/{directory}.eep"
        member, eep = bag.members.get(metadata_name), bag.members.get(eep_name)
        item = None
        for name, found in ((metadata_name, member), (eep_name, eep)):
            if found is None:
                problems.append(_("%(file)s is missing.") % {"file": name})
        if member is not None and eep is not None:
            try:
                item = _item(member, metadata_name, directory, transfer_schema, problems)
                if not eep_schema.validate(parse_xml(eep, eep_name)):
                    problems += [f"{eep_name}: {e}" for e in eep_schema.error_log][:5]
            except Unreadable as error:
                problems.append(str(error))
        if item is not None:
            if item.code != node.get("code"):
                problems.append(_("The catalogue and the metadata file name different codes."))
            if reading.receiving and item.code in existing:
                problems.append(_("A record with this archival code is already on file."))
            if item.category not in known_categories or item.fonds not in known_fonds:
                problems.append(_("Unknown fonds or category here."))
            if item.unit and item.unit not in known_units:
                problems.append(_("Unknown unit %(unit)s here.") % {"unit": item.unit})
            reading.items.append(item)
            for f in item.files:  # the item and page each content file is declared as
                entry = (reading.files or {}).get(f"data/{f['path']}")
                if entry is not None:
                    entry.item, entry.page, entry.declared_size = position, f["page"], f["size"]
        if problems:
            reading.errors[directory] = problems
        entries.append(
            integrity.ItemEntry(
                position=position, label=node.get("code") or directory, metadata_errors=problems
            )
        )
    if "-" in reading.errors:  # the catalogue file's own errors, told with its first item
        entries = entries or [integrity.ItemEntry(position=0, label="-")]
        entries[0].metadata_errors[:0] = reading.errors["-"]
    return entries


def _is_package_file(name: str) -> bool:
    """The package's own files (description, catalogue, metadata, EEP), not content."""
    return name in (DESCRIPTION, CATALOGUE) or name.endswith((f"/{METADATA_NAME}", ".eep"))


def submission(bag, label, reading: Reading | None = None, files=None) -> integrity.Submission:
    reading = reading or Reading(bag=bag, items=[], errors={}, catalogue={})
    files = files if files is not None else bag_files(bag, metadata=_is_package_file)
    reading.files = {f.name: f for f in files}
    items_declared = bag.info.get("Dangan-Items", "")
    return integrity.Submission(
        label=bag.info.get("External-Description", label),
        items=lambda: _describe(bag, reading),
        files=files,
        declared_items=int(items_declared) if items_declared.isdigit() else None,
        declared_bytes=bag.declared_bytes,
        missing=bag.missing,
        extra=bag.extra,
        signature=None,
        tag_changes=bag.tag_changes,
        scan_paths=[label],
    )


def check_transfer(source) -> tuple[integrity.Run, Reading]:
    """Run the transfer-stage checks over a package; nothing is written.

    The bag is verified first (``verify_bag``: manifests, sizes, digests), so a changed byte is
    refused (``PackageRefused``) for its manifest before any XML of the package is parsed."""
    bag = read_bag(source)
    files = bag_files(bag, metadata=_is_package_file)
    verify_bag(bag, files)
    reading = Reading(bag=bag, items=[], errors={}, catalogue={})
    run = integrity.run_checks(submission(bag, str(source), reading, files))
    return run, reading


def first_evidence(run) -> str:
    """What a one-line refusal names: the first metadata error (it names the file), else the
    first line of evidence of the first failed check."""
    failed = [o for o in run.outcomes if o.verdict == "fail"]
    failed.sort(key=lambda o: o.check_id != "YJ-2-3")
    return (failed[0].evidence or [failed[0].summary])[0] if failed else ""
