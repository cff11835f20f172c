"""Writing a transfer package (``dangan export-transfer``): each record's metadata file and DA/T 48
EEP, the catalogue and description files, the content page by page; the package is checked as
the receiving side will check it, and the report kept."""

import base64
import datetime
import hashlib
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

from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.catalogue.models import Category, Fonds, Record, RecordRelation
from dangan.catalogue.selectors import visible_records
from dangan.content.models import Page
from dangan.content.services import ensure_sm3
from dangan.content.stores import get_store
from dangan.intake.packages import PayloadFile, payload_bytes, read_bag, write_bag
from dangan.integrity import checks as integrity
from dangan.integrity import ledger
from dangan.integrity.models import CheckReport
from dangan.integrity.services import keep_report
from dangan.people.models import RecordPerson

from ..models import Transfer
from .checking import Reading, submission
from .layout import (
    CATALOGUE,
    DESCRIPTION,
    EEP_NS,
    FIELDS,
    FORMAT,
    METADATA_NAME,
    NS,
    SUBJECT_TYPE,
    field_text,
    item_dir,
    qualified,
    typed_value,
)

#: 关系 of each kind of relation as the EEP states it (DA/T 46 实体关系), read from the record
#: that points to the other.
EEP_RELATIONS = {"reply": "回复", "attachment": "附件", "supersedes": "更正", "see_also": "参见"}


def record_xml(record: Record, persons, pages, directory: str, relations=()) -> bytes:
    """元数据.xml: everything needed to file the record again, unchanged."""
    root = etree.Element(
        qualified("record"),
        nsmap={None: NS},
        code=record.archival_code,
        sequence=str(record.sequence),
    )
    etree.SubElement(root, qualified("fonds")).text = record.fonds.code
    etree.SubElement(root, qualified("category")).text = record.category.code
    etree.SubElement(root, qualified("unit")).text = record.unit.code if record.unit_id else ""
    for name in FIELDS:
        etree.SubElement(root, qualified("field"), name=name).text = field_text(
            getattr(record, name)
        )
    for key in sorted(record.metadata):
        kind, text = typed_value(record.metadata[key])
        etree.SubElement(root, qualified("value"), name=key, type=kind).text = text
    for person in persons:
        etree.SubElement(root, qualified("person"), id_number=person.id_number).text = person.name
    for relation in relations:
        etree.SubElement(
            root, qualified("relation"), kind=relation.kind, code=relation.target.archival_code
        )
    for page, path in pages:
        etree.SubElement(
            root,
            qualified("file"),
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
        node.text = field_text(text)
    return node


def eep_xml(record: Record, pages, *, source: str, store, relations=()) -> bytes:
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
    if relations:
        related = _e(entity, "关联实体块")
        for relation in relations:
            one = _e(related, "关联实体")
            _e(one, "关系类型", "引用")
            _e(one, "关系", EEP_RELATIONS[relation.kind])
            _e(one, "关联档号", relation.target.archival_code)
            _e(one, "关系描述", str(relation.get_kind_display()))
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
        qualified("transfer"),
        nsmap={None: NS},
        identifier=meta["identifier"],
        format=FORMAT,
        created=meta["created"],
        fonds=meta["fonds"],
        category=meta["category"],
        year=str(meta["year"]),
        items=str(len(items)),
    )
    etree.SubElement(root, qualified("source")).text = meta["source"]
    for record, directory, files in items:
        etree.SubElement(
            root,
            qualified("item"),
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
    relations = _relations_of(records)
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
                record_xml(
                    record,
                    persons.get(record.pk, []),
                    laid,
                    directory,
                    relations.get(record.pk, []),
                ),
            )
        )
        payload.append(
            spool.keep(
                f"data/{directory}/{directory}.eep",
                eep_xml(
                    record,
                    laid,
                    source=meta["source"],
                    store=store,
                    relations=relations.get(record.pk, []),
                ),
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
    run = integrity.run_checks(submission(bag, str(destination), sent))
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


def _relations_of(records) -> dict:
    """record id → the relations it points from (to records with an archival code)."""
    by_record: dict = {}
    relations = RecordRelation.objects.filter(
        source__in=[r.pk for r in records], target__archival_code__isnull=False
    ).select_related("target")
    for relation in relations.order_by("source_id", "pk"):
        by_record.setdefault(relation.source_id, []).append(relation)
    return by_record


def _pages_of(records) -> dict:
    by_record: dict = {}
    pages = Page.objects.filter(
        record__in=[r.pk for r in records], role=Page.Role.ORIGINAL
    ).select_related("blob")
    for page in pages.order_by("record_id", "position"):
        by_record.setdefault(page.record_id, []).append(page)
    return by_record
