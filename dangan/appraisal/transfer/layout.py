"""The layout of a transfer package and its XML vocabulary, shared by the sending side
(``export``) and the receiving side (``checking``, ``receiving``): names, namespaces, schemas, and
how a category-field value is written as text and read back exactly."""

import datetime
import json
import re
from pathlib import Path

from lxml import etree

from dangan.catalogue.services import CORE_FIELDS

NS = "urn:dangan:transfer:1"


EEP_NS = "http://www.saac.gov.cn/standards/ERM/encapsulation"


FORMAT = "dangan-transfer/1"


DESCRIPTION = "data/说明文件.txt"


CATALOGUE = "data/目录文件.xml"


METADATA_NAME = "元数据.xml"


SUBJECT_TYPE = "appraisal.transfer"


_UNSAFE = re.compile(r"[^0-9A-Za-z._-]")


#: Record fields written as <field>, in this order (unit is written by its code).
FIELDS = [name for name in CORE_FIELDS if name != "unit"]


def item_dir(code: str) -> str:
    return _UNSAFE.sub("_", code)


def _schema_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "schemas"


def schema(name: str) -> etree.XMLSchema:
    """One of our schemas (``transfer.xsd``, ``eep.xsd``), shipped in ``schemas/``."""
    return etree.XMLSchema(etree.parse(str(_schema_dir() / name)))


def qualified(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def field_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def typed_value(value) -> tuple[str, str]:
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


def untyped_value(kind: str, text: str):
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
