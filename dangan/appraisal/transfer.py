"""Transfer to the county archives (移交): item-level packages, out of one Dangan and into another.

A package is a BagIt bag in one tar file, written by ``intake.packages.write_bag`` (the same
code as the offline hand-over packages), whose payload follows the DA/T 93 layout::

    transfer-<uuid>/data/说明文件.txt                   description file (plain text)
    transfer-<uuid>/data/目录文件.xml                   catalogue file: one <item> per record
    transfer-<uuid>/data/<item>/元数据.xml              the record's metadata, persons and files
    transfer-<uuid>/data/<item>/<item>.eep             DA/T 48 EEP: metadata and base64 content
    transfer-<uuid>/data/<item>/<item>-0001.jpg        the content files, page by page

``<item>`` is the archival code with every character outside ``[0-9A-Za-z._-]`` written ``_``.
Our XML (catalogue and metadata files, namespace ``urn:dangan:transfer:1``) and the EEP subset
we write are described by the schemas in ``schemas/`` beside this module (shipped with the
package); the receiving side validates every
XML file against them before it files anything. The transfer-stage four-property report
(DA/T 70, ``integrity.checks``) is run over the written package and kept.

``import_transfer`` files the records of a package unchanged: the same archival codes and item
numbers, the same field values, persons and category metadata, the same bytes (so the same
SHA-256 and SM3 digests) in the same page order.
"""

import base64
import datetime
import hashlib
import json
import re
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree

from dangan.accounts.models import Unit
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.catalogue.models import Category, Fonds, Record
from dangan.catalogue.selectors import visible_records
from dangan.catalogue.services import CORE_FIELDS, RecordDraft, create_records
from dangan.content.models import Page
from dangan.content.services import attach_blobs, ensure_sm3, keep_file
from dangan.content.stores import get_store
from dangan.intake.packages import (
    Limited,
    PayloadFile,
    bag_files,
    payload_bytes,
    read_bag,
    verify_bag,
    write_bag,
)
from dangan.integrity import checks as integrity
from dangan.integrity import ledger
from dangan.integrity.models import CheckReport
from dangan.integrity.services import keep_report
from dangan.people.models import RecordPerson
from dangan.people.services import check_person, resolve_persons

from .models import Transfer

NS = "urn:dangan:transfer:1"
EEP_NS = "http://www.saac.gov.cn/standards/ERM/encapsulation"
FORMAT = "dangan-transfer/1"
DESCRIPTION = "data/说明文件.txt"
CATALOGUE = "data/目录文件.xml"
METADATA_NAME = "元数据.xml"
SUBJECT_TYPE = "appraisal.transfer"
#: Files stored per transaction when a package is received.
STORE_BATCH = 500
_UNSAFE = re.compile(r"[^0-9A-Za-z._-]")
#: Record fields written as <field>, in this order (unit is written by its code).
FIELDS = [name for name in CORE_FIELDS if name != "unit"]


def item_dir(code: str) -> str:
    return _UNSAFE.sub("_", code)


def _schema_dir() -> Path:
    return Path(__file__).resolve().parent / "schemas"


def schema(name: str) -> etree.XMLSchema:
    """One of our schemas (``transfer.xsd``, ``eep.xsd``), shipped in ``schemas/``."""
    return etree.XMLSchema(etree.parse(str(_schema_dir() / name)))


# --- Writing -------------------------------------------------------------------------------------
def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _typed(value) -> tuple[str, str]:
    """A category-field value as (type, text), so that it is read back exactly."""
    if value is None:
        return "null", ""
    if isinstance(value, bool):
        return "boolean", "true" if value else "false"
    if isinstance(value, int):
        return "integer", str(value)
    if isinstance(value, str):
        return "string", value
    return "json", json.dumps(value, ensure_ascii=False, sort_keys=True)


def _untyped(kind: str, text: str):
    text = text or ""
    if kind == "null":
        return None
    if kind == "boolean":
        return text == "true"
    if kind == "integer":
        return int(text)
    if kind == "string":
        return text
    return json.loads(text)


def record_xml(record: Record, persons, pages, directory: str) -> bytes:
    """元数据.xml: everything needed to file the record again, unchanged."""
    root = etree.Element(
        _q("record"),
        nsmap={None: NS},
        code=record.archival_code,
        sequence=str(record.sequence),
    )
    etree.SubElement(root, _q("fonds")).text = record.fonds.code
    etree.SubElement(root, _q("category")).text = record.category.code
    etree.SubElement(root, _q("unit")).text = record.unit.code if record.unit_id else ""
    for name in FIELDS:
        etree.SubElement(root, _q("field"), name=name).text = _text(getattr(record, name))
    for key in sorted(record.metadata):
        kind, text = _typed(record.metadata[key])
        etree.SubElement(root, _q("value"), name=key, type=kind).text = text
    for person in persons:
        etree.SubElement(root, _q("person"), id_number=person.id_number).text = person.name
    for page, path in pages:
        etree.SubElement(
            root,
            _q("file"),
            page=str(page.position),
            path=f"{directory}/{path}",
            size=str(page.blob.size),
            sha256=page.blob.sha256,
            sm3=page.blob.sm3,
            format=page.blob.format_label,
            mime=page.blob.mime,
        ).text = page.filename
    return etree.tostring(root, encoding="utf-8", xml_declaration=True, pretty_print=True)


def _e(parent, tag, text=None, **attrs):
    node = etree.SubElement(parent, f"{{{EEP_NS}}}{tag}", **attrs)
    if text is not None:
        node.text = _text(text)
    return node


def eep_xml(record: Record, pages, *, source: str, store) -> bytes:
    """DA/T 48 电子文件封装包 of one record: its metadata and its files, base64-encoded."""
    root = etree.Element(f"{{{EEP_NS}}}电子文件封装包", nsmap={None: EEP_NS})
    _e(
        root,
        "封装包格式描述",
        "本EEP根据中华人民共和国档案行业标准DA/T 48-2009《基于XML的电子文件封装规范》生成",
    )
    _e(root, "版本", "2009")
    signed = _e(root, "被签名对象", eep版本="2009")
    _e(signed, "封装包类型", "原始型")
    _e(signed, "封装包类型描述", "本封装包包含电子文件数据及其元数据，原始封装，未经修改")
    _e(signed, "封装包创建时间", timezone.now().replace(microsecond=0).isoformat())
    _e(signed, "封装包创建单位", source)
    content = _e(signed, "封装内容")
    entity = _e(_e(content, "文件实体块"), "文件实体")
    _e(entity, "聚合层次", "文件" if record.level == "item" else "案卷")
    origin = _e(entity, "来源")
    _e(origin, "档案馆名称", source)
    _e(origin, "全宗名称", record.fonds.name)
    _e(origin, "立档单位名称", record.fonds.name)
    code = _e(entity, "档号")
    _e(code, "档号", record.archival_code)
    _e(code, "全宗号", record.fonds.code)
    _e(code, "年度", record.year)
    _e(code, "保管期限", record.get_retention_display())
    _e(code, "件号", record.sequence)
    described = _e(entity, "内容描述")
    _e(described, "题名", record.title)
    _e(described, "责任者", record.responsible)
    _e(described, "日期", record.date)
    _e(described, "文件编号", record.doc_number)
    _e(described, "密级", record.get_secrecy_display())
    _e(described, "开放状态", record.get_openness_display())
    _e(_e(entity, "形式特征"), "页数", record.page_count if record.page_count is not None else "")
    documents = _e(entity, "文档块")
    for page, path in pages:
        document = _e(documents, "文档")
        _e(document, "文档标识符", path)
        _e(document, "文档序号", page.position)
        data = _e(_e(document, "文档数据"), "编码")
        properties = _e(data, "电子属性")
        _e(properties, "格式信息", page.blob.format_label)
        _e(properties, "计算机文件名", page.filename)
        _e(properties, "计算机文件大小", page.blob.size)
        _e(properties, "SHA256", page.blob.sha256)
        _e(properties, "SM3", page.blob.sm3)
        _e(data, "编码描述", "计算机文件二进制流的Base64编码")
        _e(data, "反编码关键字", "base64")
        with store.open(page.blob.key) as stream:
            _e(data, "编码数据", base64.b64encode(stream.read()).decode())
    business = _e(_e(content, "业务实体块"), "业务实体")
    _e(business, "业务状态", "移交")
    _e(business, "业务行为", "移交")
    _e(business, "行为时间", timezone.now().replace(microsecond=0).isoformat())
    person = _e(_e(content, "机构人员实体块"), "机构人员实体")
    _e(person, "机构人员类型", "单位")
    _e(person, "机构人员名称", source)
    # No SM2 signature yet: the block carries the SHA-256 of the signed object, said as such.
    body = etree.tostring(signed, method="c14n")
    signature = _e(_e(root, "电子签名块"), "电子签名")
    _e(signature, "签名标识符", "修改0签名1")
    _e(signature, "签名规则", "SHA-256 摘要（未签名；SM2 签名尚未实现）")
    _e(signature, "签名时间", timezone.now().replace(microsecond=0).isoformat())
    _e(signature, "签名人", source)
    _e(signature, "签名结果", hashlib.sha256(body).hexdigest())
    _e(signature, "签名算法标识", "SHA-256")
    return etree.tostring(root, encoding="utf-8", xml_declaration=True)


def catalogue_xml(meta: dict, items: list) -> bytes:
    root = etree.Element(
        _q("transfer"),
        nsmap={None: NS},
        identifier=meta["identifier"],
        format=FORMAT,
        created=meta["created"],
        fonds=meta["fonds"],
        category=meta["category"],
        year=str(meta["year"]),
        items=str(len(items)),
    )
    etree.SubElement(root, _q("source")).text = meta["source"]
    for record, directory, files in items:
        etree.SubElement(
            root,
            _q("item"),
            code=record.archival_code,
            sequence=str(record.sequence),
            path=directory,
            year=str(record.year),
            retention=record.retention,
            files=str(files),
        ).text = record.title
    return etree.tostring(root, encoding="utf-8", xml_declaration=True, pretty_print=True)


def _description(meta: dict, items: int, files: int, size: int) -> bytes:
    lines = [
        "移交说明文件",
        f"移交单位: {meta['source']}",
        f"全宗号: {meta['fonds']}",
        f"门类: {meta['category']} {meta['category_name']}",
        f"年度: {meta['year']}",
        f"件数: {items}",
        f"文件数: {files}",
        f"内容字节数: {size}",
        f"移交时间: {meta['created']}",
        f"包标识: {meta['identifier']}",
        f"格式: {FORMAT} (DA/T 93 目录结构, DA/T 48 EEP, BagIt 1.0)",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


@dataclass
class Exported:
    transfer: Transfer
    run: integrity.Run

    def as_dict(self) -> dict:
        t = self.transfer
        return {
            "package": str(t.uid),
            "path": t.path,
            "items": t.items,
            "files": t.files,
            "bytes": t.bytes,
            "digest": t.digest,
            "passed": t.passed,
            "failed": self.run.failed(),
            "report": t.report_id,
        }


def _source_name() -> str:
    return getattr(settings, "DANGAN_ISSUER_NAME", "") or "Dangan"


def export_transfer(
    *,
    actor,
    category: Category,
    year: int,
    destination,
    fonds: Fonds | None = None,
    progress=None,
) -> Exported:
    """Write the filed records of ``category`` and ``year`` (of ``fonds``, if given) that
    ``actor`` may see (all, for the system: ``actor`` None) as one transfer package.

    ``destination``: a directory (the package is named there) or a ``.tar`` path."""
    if actor is not None and not getattr(actor, "may_edit_records", False):
        raise PermissionDenied(_("Transfers are made by archivists."))
    records = Record.objects.all() if actor is None else visible_records(actor)
    records = records.filter(category=category, year=year, state=Record.State.FILED)
    if fonds is not None:
        records = records.filter(fonds=fonds)
    records = list(records.select_related("fonds", "category", "unit").order_by("archival_code"))
    if not records:
        raise ValidationError(
            _("No filed records of %(category)s in %(year)s to transfer.")
            % {"category": category.code, "year": year},
            code="transfer_empty",
        )
    uid = uuid.uuid4()
    destination = Path(destination)
    if destination.suffix != ".tar":
        destination.mkdir(parents=True, exist_ok=True)
        destination = destination / f"transfer-{category.code}-{year}-{str(uid)[:8]}.tar"
    else:
        destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=".transfer-") as temporary:
        return _export(
            actor=actor,
            records=records,
            category=category,
            year=year,
            fonds=fonds,
            uid=uid,
            destination=destination,
            spool=_Spool(Path(temporary)),
            progress=progress,
        )


class _Spool:
    """EEP files (the content again, base64) wait on disk, not in memory, until the bag is
    written: a year of a category can hold more bytes than the server has memory."""

    def __init__(self, directory: Path):
        self.directory, self.count = directory, 0

    def keep(self, path: str, data: bytes) -> PayloadFile:
        made = payload_bytes(path, data)
        self.count += 1
        spooled = self.directory / f"{self.count:08d}"
        spooled.write_bytes(data)
        made.open = lambda: open(spooled, "rb")  # noqa: SIM115 - write_bag closes it
        return made


def _export(*, actor, records, category, year, fonds, uid, destination, spool, progress):
    meta = {
        "identifier": str(uid),
        "created": timezone.now().replace(microsecond=0).isoformat(),
        "source": _source_name(),
        "fonds": fonds.code if fonds else ",".join(sorted({r.fonds.code for r in records})),
        "category": category.code,
        "category_name": category.name,
        "year": year,
    }
    store = get_store()
    persons = _persons_of(records)
    pages = _pages_of(records)
    payload, listed, content_bytes, file_count = [], [], 0, 0
    for n, record in enumerate(records, start=1):
        directory = item_dir(record.archival_code)
        laid = []
        for page in pages.get(record.pk, []):
            ensure_sm3(page.blob)  # the package lists SM3: any not computed yet is computed now
            extension = Path(page.filename).suffix.lower()[:10]
            laid.append((page, f"{directory}-{page.position:04d}{extension}"))
        payload.append(
            payload_bytes(
                f"data/{directory}/{METADATA_NAME}",
                record_xml(record, persons.get(record.pk, []), laid, directory),
            )
        )
        payload.append(
            spool.keep(
                f"data/{directory}/{directory}.eep",
                eep_xml(record, laid, source=meta["source"], store=store),
            )
        )
        for page, path in laid:
            payload.append(
                PayloadFile(
                    path=f"data/{directory}/{path}",
                    size=page.blob.size,
                    sha256=page.blob.sha256,
                    sm3=page.blob.sm3,
                    open=lambda key=page.blob.key: store.open(key),
                )
            )
            content_bytes += page.blob.size
            file_count += 1
        listed.append((record, directory, len(laid)))
        if progress:
            progress(n, len(records))
    head = [
        payload_bytes(DESCRIPTION, _description(meta, len(records), file_count, content_bytes)),
        payload_bytes(CATALOGUE, catalogue_xml(meta, listed)),
    ]
    info = {
        "Source-Organization": meta["source"],
        "Bagging-Date": datetime.date.today().isoformat(),
        "External-Identifier": str(uid),
        "External-Description": f"{category.code} {category.name} {year}",
        "Dangan-Format": FORMAT,
        "Dangan-Items": str(len(records)),
    }
    tagmanifest = write_bag(destination, root=f"transfer-{uid}", info=info, payload=head + payload)
    digest = hashlib.sha256(tagmanifest).hexdigest()
    bag = read_bag(destination)
    sent = Reading(bag=bag, items=[], errors={}, catalogue={}, receiving=False)
    run = integrity.run_checks(_submission(bag, str(destination), sent))
    with transaction.atomic():
        report = keep_report(
            actor=actor,
            stage=CheckReport.Stage.HANDOVER,
            subject_type=SUBJECT_TYPE,
            subject_id=uid,
            subject_repr=_("Transfer package %(name)s") % {"name": info["External-Description"]},
            run=run,
        )
        transfer = Transfer.objects.create(
            uid=uid,
            direction=Transfer.Direction.EXPORT,
            fonds=meta["fonds"][:16],
            category=category.code,
            year=year,
            items=len(records),
            files=file_count,
            bytes=content_bytes,
            path=str(destination)[:500],
            digest=digest,
            passed=run.passed,
            report=report,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        record_event(
            actor=actor,
            action=AuditEvent.Action.EXPORT,
            obj=transfer,
            detail={"package": str(uid), "records": [r.pk for r in records], "digest": digest},
        )
        ledger.append(
            kind=ledger.TRANSFER_EXPORTED,
            subject=f"transfer:{uid}",
            digest=f"sha256:{digest}",
            actor=actor,
            details={
                "category": category.code,
                "year": year,
                "items": len(records),
                "files": file_count,
                "bytes": content_bytes,
                "codes_digest": ledger.sha256_of([r.archival_code for r in records]),
            },
        )
    return Exported(transfer=transfer, run=run)


def _persons_of(records) -> dict:
    by_record: dict = {}
    links = RecordPerson.objects.filter(record__in=[r.pk for r in records]).select_related("person")
    for link in links.order_by("record_id", "person__id_number"):
        by_record.setdefault(link.record_id, []).append(link.person)
    return by_record


def _pages_of(records) -> dict:
    by_record: dict = {}
    pages = Page.objects.filter(
        record__in=[r.pk for r in records], role=Page.Role.ORIGINAL
    ).select_related("blob")
    for page in pages.order_by("record_id", "position"):
        by_record.setdefault(page.record_id, []).append(page)
    return by_record


# --- Reading and checking ------------------------------------------------------------------------
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


class _Unreadable(Exception):
    """A package file that is not what our schemas describe (said in a translated line)."""


def _parse(member, name: str) -> etree._Element:
    """One XML file of a package whose bag was verified (``verify_bag``) before."""
    with member.open() as stream:
        data = stream.read(member.size)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise _Unreadable(
            _("%(file)s is not well-formed XML (%(error)s).") % {"file": name, "error": error}
        ) from None


def _read_item(root, directory: str) -> Item:
    values = {}
    for node in root.iterfind(_q("field")):
        values[node.get("name")] = node.text or ""
    return Item(
        directory=directory,
        code=root.get("code"),
        sequence=int(root.get("sequence")),
        fonds=root.findtext(_q("fonds")) or "",
        category=root.findtext(_q("category")) or "",
        unit=root.findtext(_q("unit")) or "",
        values=values,
        metadata={
            node.get("name"): _untyped(node.get("type"), node.text)
            for node in root.iterfind(_q("value"))
        },
        persons=[(node.get("id_number"), node.text or "") for node in root.iterfind(_q("person"))],
        files=[
            {
                "page": int(node.get("page")),
                "path": node.get("path"),
                "size": int(node.get("size")),
                "sha256": node.get("sha256"),
                "sm3": node.get("sm3"),
                "filename": node.text or "",
            }
            for node in root.iterfind(_q("file"))
        ],
    )


def _item(member, name: str, directory: str, transfer_schema, problems: list) -> Item | None:
    """The item of a metadata file, its values readable as the catalogue takes them; None (the
    reasons added to ``problems``) when it is not."""
    root = _parse(member, name)
    if not transfer_schema.validate(root):
        problems += [f"{name}: {e}" for e in transfer_schema.error_log][:5]
        return None
    try:
        item = _read_item(root, directory)
        _clean_values(item.values)
    except (ValueError, TypeError, ValidationError) as error:
        messages = getattr(error, "messages", None) or [str(error)]
        problems.append(
            _("%(file)s: a value the catalogue cannot take (%(error)s).")
            % {"file": name, "error": " ".join(messages)}
        )
        return None
    return item


def _clean_values(values: dict) -> dict:
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
        catalogue = _parse(bag.members[CATALOGUE], CATALOGUE)
    except _Unreadable as error:
        reading.errors["-"] = [str(error)]
        return [integrity.ItemEntry(position=0, label="-", metadata_errors=reading.errors["-"])]
    if not transfer_schema.validate(catalogue):
        reading.errors["-"] = [f"{CATALOGUE}: {e}" for e in transfer_schema.error_log][:20]
    reading.catalogue = dict(catalogue.attrib)
    existing = set(
        Record.objects.filter(
            archival_code__in=[n.get("code") for n in catalogue.iterfind(_q("item"))]
        ).values_list("archival_code", flat=True)
    )
    known_units = set(Unit.objects.values_list("code", flat=True))
    known_categories = set(Category.objects.values_list("code", flat=True))
    known_fonds = set(Fonds.objects.values_list("code", flat=True))
    for position, node in enumerate(catalogue.iterfind(_q("item")), start=1):
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
                if not eep_schema.validate(_parse(eep, eep_name)):
                    problems += [f"{eep_name}: {e}" for e in eep_schema.error_log][:5]
            except _Unreadable as error:
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


def _submission(bag, label, reading: Reading | None = None, files=None) -> integrity.Submission:
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
    run = integrity.run_checks(_submission(bag, str(source), reading, files))
    return run, reading


@dataclass
class Imported:
    transfer: Transfer
    run: integrity.Run
    records: list

    def as_dict(self) -> dict:
        return {
            "package": str(self.transfer.uid),
            "passed": self.run.passed,
            "failed": self.run.failed(),
            "items": len(self.records),
            "files": self.transfer.files,
            "bytes": self.transfer.bytes,
            "report": self.transfer.report_id,
        }


def import_transfer(*, actor, source, progress=None) -> Imported:
    """Check a transfer package and, when every check passes, file its records unchanged.

    Refused whole (nothing filed, the report kept) when a check fails: a changed byte, a file
    too many or too few, XML outside our schemas, a code already on file, an unknown category.
    """
    if actor is not None and not getattr(actor, "may_edit_records", False):
        raise PermissionDenied(_("Transfers are received by archivists."))
    run, reading = check_transfer(source)
    bag = reading.bag
    uid = bag.info.get("External-Identifier", "")
    label = bag.info.get("External-Description", Path(str(source)).name)
    report = keep_report(
        actor=actor,
        stage=CheckReport.Stage.HANDOVER,
        subject_type=SUBJECT_TYPE,
        subject_id=uid[:64] or Path(str(source)).name[:64],
        subject_repr=_("Received transfer package %(name)s") % {"name": label},
        run=run,
    )
    if not run.passed:
        raise TransferRefused(run=run, report=report)
    # The bytes go into the store first (content-addressed: a failure below leaves only blobs
    # no record uses); the records, their pages and the ledger then in one transaction.
    blobs = {}
    files = [f for item in reading.items for f in item.files]
    for start in range(0, len(files), STORE_BATCH):
        # One commit per batch of blob rows, not one per file.
        with transaction.atomic():
            for f in files[start : start + STORE_BATCH]:
                member = bag.members[f"data/{f['path']}"]
                with member.open() as stream:
                    blobs[f["path"]] = keep_file(
                        name=f["filename"], stream=Limited(stream, member.size), actor=actor
                    )
    categories = {c.code: c for c in Category.objects.all()}
    fonds_by_code = {f.code: f for f in Fonds.objects.all()}
    units = {u.code: u for u in Unit.objects.all()}
    with transaction.atomic():
        drafts = []
        for item in reading.items:
            values = _clean_values(item.values)
            values["unit"] = units.get(item.unit) if item.unit else None
            checked = [check_person(id_number=n, name=name) for n, name in item.persons]
            persons = resolve_persons(actor=actor, entries=checked) if checked else {}
            drafts.append(
                RecordDraft(
                    fonds=fonds_by_code[item.fonds],
                    category=categories[item.category],
                    values=values,
                    metadata=item.metadata,
                    persons=[persons[c.number] for c, _name in checked],
                    received_code=(item.code, item.sequence),
                )
            )
        records = create_records(actor=actor, drafts=drafts)
        total = 0
        for n, (record, item) in enumerate(zip(records, reading.items, strict=True), start=1):
            files = sorted(item.files, key=lambda f: f["page"])
            if files:
                attach_blobs(
                    actor=actor,
                    record=record,
                    files=[(f["filename"], blobs[f["path"]]) for f in files],
                )
                total += sum(f["size"] for f in files)
            if progress:
                progress(n, len(records))
        digest = hashlib.sha256(bag.tags.get("tagmanifest-sha256.txt", b"")).hexdigest()
        transfer = Transfer.objects.create(
            uid=uid if _is_uuid(uid) else uuid.uuid4(),
            direction=Transfer.Direction.IMPORT,
            fonds=(reading.catalogue.get("fonds") or "")[:16],
            category=reading.catalogue.get("category", ""),
            year=int(reading.catalogue.get("year") or 0),
            items=len(records),
            files=len(blobs),
            bytes=total,
            path=str(source)[:500],
            digest=digest,
            passed=True,
            report=report,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        record_event(
            actor=actor,
            action=AuditEvent.Action.IMPORT,
            obj=transfer,
            detail={"package": uid, "records": [r.pk for r in records], "digest": digest},
        )
        ledger.append(
            kind=ledger.TRANSFER_IMPORTED,
            subject=f"transfer:{transfer.uid}",
            digest=f"sha256:{digest}",
            actor=actor,
            details={
                "category": transfer.category,
                "year": transfer.year,
                "items": len(records),
                "files": len(blobs),
                "bytes": total,
                "codes_digest": ledger.sha256_of([i.code for i in reading.items]),
            },
        )
    return Imported(transfer=transfer, run=run, records=records)


class TransferRefused(ValidationError):
    """A package that failed its checks: nothing was filed; the report says why."""

    def __init__(self, *, run, report):
        self.run, self.report = run, report
        super().__init__(
            _(
                "The package failed the checks %(ids)s (%(first)s); nothing was filed "
                "(report %(report)s)."
            )
            % {"ids": ", ".join(run.failed()), "first": first_evidence(run), "report": report.pk},
            code="transfer_refused",
        )


def first_evidence(run) -> str:
    """What a one-line refusal names: the first metadata error (it names the file), else the
    first line of evidence of the first failed check."""
    failed = [o for o in run.outcomes if o.verdict == "fail"]
    failed.sort(key=lambda o: o.check_id != "YJ-2-3")
    return (failed[0].evidence or [failed[0].summary])[0] if failed else ""


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
