"""Which column of an old register (台账、花名册) goes where: headers mapped to record fields.

Registers name the same column many ways (姓名 / 姓 名 / 职工姓名, 身份证号 / 公民身份号码 …).
A header is compared in a folded form: width-folded, without spaces or a trailing colon, in
simplified characters. The known names come from the bureau scheme (``bureau.py``: person
columns) and from each category's ``FieldDefinition.aliases``, so an administrator who meets a
new header adds it as an alias and the next import maps it.

A target is a string: ``name``, ``id_number``, ``sex``, ``birth_date`` (the person), one of the
record fields in ``RECORD_TARGETS``, or ``meta.<key>`` for a field of the category's schema.
"""

import json
import re
import unicodedata
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangan.catalogue.bureau import (
    BIRTH_ALIASES,
    ID_NUMBER_ALIASES,
    PERSON_NAME_ALIASES,
    SEX_ALIASES,
)
from dangan.catalogue.models import Category
from dangan.people.names import fold

PERSON_TARGETS = {
    "name": (gettext_lazy("Person: name"), PERSON_NAME_ALIASES),
    "id_number": (gettext_lazy("Person: ID number"), ID_NUMBER_ALIASES),
    "sex": (gettext_lazy("Person: sex"), SEX_ALIASES),
    "birth_date": (gettext_lazy("Person: date of birth"), BIRTH_ALIASES),
}
#: Record fields a register may fill, with the header names registers use for them.
RECORD_TARGETS = {
    "legacy_number": (
        gettext_lazy("Legacy archive number"),
        ["档案号", "档案编号", "原档号", "原档案号", "原档案编号", "档号"],
    ),
    "box_number": (gettext_lazy("Box number"), ["盒号", "盒号码", "档案盒号"]),
    "title": (gettext_lazy("Title"), ["题名", "案卷题名", "文件题名", "标题"]),
    "date": (gettext_lazy("Date"), ["日期", "形成日期", "文件日期", "成文日期"]),
    "year": (gettext_lazy("Year"), ["年度", "年份", "归档年度"]),
    "responsible": (gettext_lazy("Responsible party"), ["责任者", "责任单位"]),
    "remarks": (gettext_lazy("Remarks"), ["备注", "说明", "附注"]),
    "retention": (gettext_lazy("Retention"), ["保管期限", "期限"]),
    "doc_number": (gettext_lazy("Document number"), ["文号", "文件编号", "发文字号"]),
    "page_count": (gettext_lazy("Pages"), ["页数", "张数", "总页数"]),
}
#: Columns that only count rows (编号/序号): never imported, reported as not mapped.
ROW_NUMBER_HEADERS = ["编号", "序号", "顺序号", "行号", "no", "no.", "#"]

_TRAILING = re.compile(r"[:：]+$")


def normalize_header(text) -> str:
    """The folded form in which headers are compared: ``公民身份号码 `` → ``公民身份号码``."""
    if text is None:
        return ""
    folded = fold(unicodedata.normalize("NFKC", str(text)))
    return _TRAILING.sub("", folded).lower()


def targets(category: Category) -> dict[str, str]:
    """Every target of ``category`` with its label, in the order a form should offer them."""
    out = {key: str(label) for key, (label, _aliases) in PERSON_TARGETS.items()}
    out.update({key: str(label) for key, (label, _aliases) in RECORD_TARGETS.items()})
    for field in category.fields.all():
        out[f"meta.{field.key}"] = _("Field: %(label)s") % {"label": field.label}
    return out


def known_headers(category: Category) -> dict[str, str]:
    """Folded header name → target, for every name the category's registers are known to use."""
    known: dict[str, str] = {}
    for key, (_label, aliases) in {**PERSON_TARGETS, **RECORD_TARGETS}.items():
        for alias in aliases:
            known.setdefault(normalize_header(alias), key)
    for field in category.fields.all():
        for alias in [field.label, *field.aliases]:
            known.setdefault(normalize_header(alias), f"meta.{field.key}")
    return known


def is_row_number(header) -> bool:
    return normalize_header(header) in {normalize_header(h) for h in ROW_NUMBER_HEADERS}


def header_score(cells, known: dict[str, str]) -> int:
    """How many cells of a row read as known headers (to find the header row under a title)."""
    return sum(
        1
        for cell in cells
        if normalize_header(cell) in known or (cell is not None and is_row_number(cell))
    )


def suggest(headers: list[str], category: Category) -> dict[str, str | None]:
    """Header → target (None: not imported) by header names; the first column wins a target.

    A header known by name (a label or alias) maps first; a header left over then maps by a
    part of a name (``near``: 单位 → 工作单位), when that part points to one field only.
    """
    known = known_headers(category)
    mapping = {header: known.get(normalize_header(header)) for header in headers}
    taken = set()
    for header, target in mapping.items():
        if target in taken:
            mapping[header] = None
        elif target:
            taken.add(target)
    names = None
    for header in headers:
        if mapping[header] is not None or is_row_number(header):
            continue
        names = names or _names(category)
        target = near(normalize_header(header), names)
        if target and target not in taken:
            mapping[header] = target
            taken.add(target)
    return mapping


def _names(category: Category) -> list[dict[str, list[str]]]:
    """The folded names of every target, the category's own fields first: a part of a name
    is looked for among them before the person and record fields every category shares."""
    fields = {
        f"meta.{f.key}": [normalize_header(n) for n in [f.label, *f.aliases]]
        for f in category.fields.all()
    }
    shared = {
        key: [normalize_header(n) for n in aliases]
        for key, (_label, aliases) in {**PERSON_TARGETS, **RECORD_TARGETS}.items()
    }
    return [fields, shared]


def near(header: str, names: list[dict[str, list[str]]]) -> str | None:
    """The one target one of whose names holds the folded ``header`` or is held in it (at least
    two characters each): 单位 → 工作单位, 参加工作 → 参加工作时间. Two fields that could be
    meant leave the column for the clerk to map."""
    if len(header) < 2:
        return None
    for group in names:
        found = {
            target
            for target, folded in group.items()
            if any(len(n) >= 2 and (header in n or n in header) for n in folded)
        }
        if len(found) == 1:
            return found.pop()
        if found:
            return None
    return None


def resolve_target(value, category: Category) -> str | None:
    """A target as a person writes it in a mapping file: a key, ``meta.key``, or a header name."""
    if value in (None, "", "-"):
        return None
    text = str(value).strip()
    valid = targets(category)
    if text in valid:
        return text
    if f"meta.{text}" in valid:
        return f"meta.{text}"
    by_name = known_headers(category).get(normalize_header(text))
    if by_name:
        return by_name
    raise ValidationError(
        _("“%(target)s” is not a field of %(category)s. Known fields: %(known)s.")
        % {"target": text, "category": category.name, "known": ", ".join(valid)},
        code="mapping_target_unknown",
    )


def check(mapping: dict, headers: list[str], category: Category) -> dict[str, str | None]:
    """A complete mapping for ``headers`` from ``mapping``; one target per column at most."""
    by_folded = {normalize_header(k): v for k, v in mapping.items()}
    result, taken = {}, {}
    for header in headers:
        raw = mapping.get(header, by_folded.get(normalize_header(header)))
        target = resolve_target(raw, category)
        if target and target in taken:
            raise ValidationError(
                _("Columns “%(first)s” and “%(second)s” are both mapped to %(target)s.")
                % {"first": taken[target], "second": header, "target": target},
                code="mapping_target_twice",
            )
        if target:
            taken[target] = header
        result[header] = target
    return result


def load(path) -> dict:
    """A mapping file: a JSON object ``{"column header": "target"}``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise ValidationError(
            _("The mapping file cannot be read: %(error)s") % {"error": exc},
            code="mapping_unreadable",
        ) from None
    if not isinstance(data, dict):
        raise ValidationError(
            _('The mapping file must hold one JSON object {"column header": "field"}.'),
            code="mapping_unreadable",
        )
    return data
