"""What a scanned page says, field by field of the record's form (著录建议): its title, date,
responsible party, document number and the persons on it, offered beside each field.

Built on ``digitize.suggestions`` (checked ID numbers, labelled names, dates) with what a form's
other fields need: a title only where the page's first lines name a kind of document (…登记表,
…通知); the document's own date, not a date of birth; the body that signed it (…局 before the
date); a document number as written (建人社发〔2015〕12号). Empty or garbage text offers nothing.
"""

import re
import unicodedata

from dangan.digitize.suggestions import suggest_metadata

_KIND_OF_DOCUMENT = re.compile(
    r"(表|书|通知|决定|报告|批复|请示|函|意见|纪要|证明|合同|名册|花名册|清单|档案|材料|"
    r"登记|审批|申请|鉴定|协议|办法|规定)$"
)
_CJK = re.compile(r"[\u3400-\u9fff]")
_DOC_NUMBER = re.compile(r"[\u3400-\u9fff]{1,10}[〔\[［(（]\s*\d{4}\s*[〕\]］)）]\s*\d{1,5}\s*号")
_SIGNER = re.compile(
    r"([\u3400-\u9fff（）()]{3,30}?(?:局|院|委员会|公司|中心|政府|厂|办公室|办|所|站|处|部))"
    r"\s*(?:\d{4}\s*年|[〇○零一二三四五六七八九]{4}年)"
)
#: Labels of dates that are not the document's own.
_NOT_DOCUMENT_DATE = re.compile(r"出生|生日|工作时间|工作時間|参加|參加|入职|入職|入党|入黨")
FIELDS = ("title", "date", "responsible", "doc_number", "persons")


def read_fields(text: str) -> dict[str, list[str]]:
    """``{field: [suggested values]}`` for the fields in ``FIELDS``, each value once, best
    first; no key for a field the page says nothing about."""
    text = unicodedata.normalize("NFKC", text or "")
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    found = suggest_metadata(text)
    fields: dict[str, list[str]] = {
        "title": _titles(lines),
        "date": [
            d.date.iso for d in reversed(found.dates) if not _NOT_DOCUMENT_DATE.search(d.label)
        ],
        "responsible": [m.group(1) for line in lines for m in _SIGNER.finditer(line)],
        "doc_number": ["".join(m.group(0).split()) for m in _DOC_NUMBER.finditer(text)],
        "persons": _persons(found),
    }
    return {key: list(dict.fromkeys(values))[:3] for key, values in fields.items() if values}


def _titles(lines: list[str]) -> list[str]:
    titles = []
    for line in lines[:3]:
        compact = "".join(line.split())
        if ":" in compact or "：" in compact or not 4 <= len(compact) <= 60:
            continue
        if len(_CJK.findall(compact)) >= 0.7 * len(compact) and _KIND_OF_DOCUMENT.search(compact):
            titles.append(compact)
    return titles


def _persons(found) -> list[str]:
    """ "ID number name" lines for the form's persons field: a number with the name beside it
    when the page has one of each, the numbers alone otherwise."""
    if len(found.id_numbers) == 1 and len(found.names) == 1:
        return [f"{found.id_numbers[0].number} {found.names[0]}"]
    return [checked.number for checked in found.id_numbers]
