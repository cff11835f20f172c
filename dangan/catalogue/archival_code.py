"""Archival codes (档号) from a per-category template, DA/T 22 by default.

``Z109-WS·2011-Y-BGS-0001``: fonds, category code·year, retention, organisation code, item number.
An empty part is left out together with the separator before it, so a category without
organisation codes gets ``Z109-WS·2011-Y-0001``.
"""

import functools
import re

from django.db import IntegrityError, transaction
from django.db.models import F

from .models import CodeCounter

_TOKEN = re.compile(r"\{(fonds|category|class|year|retention|org|seq)(?::(\d+))?\}")
_SEQ_MARK = "#"


@functools.lru_cache(maxsize=64)
def _parts(template: str):
    """(literal before, token, width) for each token, and the literal after the last one."""
    parts, position = [], 0
    for match in _TOKEN.finditer(template):
        width = int(match.group(2)) if match.group(2) else 0
        parts.append((template[position : match.start()], match.group(1), width))
        position = match.end()
    return parts, template[position:]


def template_problems(template: str) -> list[str]:
    """What is wrong with a code template, in words for the administrator (empty when fine)."""
    from django.utils.translation import gettext as _

    parts, _tail = _parts(template)
    tokens = [token for _literal, token, _width in parts]
    problems = []
    if tokens.count("seq") != 1:
        problems.append(_("The template must contain {seq} (the item number) exactly once."))
    if "year" not in tokens:
        problems.append(_("The template must contain {year}."))
    if "fonds" not in tokens:
        problems.append(_("The template must contain {fonds}."))
    leftover = _TOKEN.sub("", template)
    if "{" in leftover or "}" in leftover:
        problems.append(_("The template contains an unknown {token}."))
    return problems


def render(template: str, values: dict, sequence: int | None) -> str:
    """The code for ``values`` with ``sequence``; with None, the counter key (sequence as #)."""
    parts, tail = _parts(template)
    out = []
    for literal, token, width in parts:
        if token == "seq":
            value = _SEQ_MARK if sequence is None else str(sequence).zfill(width)
        else:
            value = str(values.get(token) or "")
            if width:
                value = value.zfill(width)
        if not value:
            continue
        out.append(literal if out else literal.lstrip("-·."))
        out.append(value)
    return "".join(out) + tail


def values_for(record) -> dict:
    return {
        "fonds": record.fonds.code,
        "category": record.category.code,
        "class": record.category.class_code,
        "year": record.year,
        "retention": record.retention,
        "org": record.org_code,
    }


def allocate(record) -> tuple[str, str, int]:
    """The next free code for ``record``: (code, counter key, item number).

    Must run inside the transaction that saves the record: the counter row stays locked until
    it commits (two clerks filing at once get consecutive numbers), and a rollback returns the
    number (no gaps).
    """
    template = record.category.code_template
    key = render(template, values_for(record), None)
    with transaction.atomic():
        try:
            with transaction.atomic():
                CodeCounter.objects.get_or_create(prefix=key)
        except IntegrityError:  # another clerk created it at the same moment
            pass
        CodeCounter.objects.filter(prefix=key).update(last=F("last") + 1)
        sequence = CodeCounter.objects.values_list("last", flat=True).get(prefix=key)
    return render(template, values_for(record), sequence), key, sequence
