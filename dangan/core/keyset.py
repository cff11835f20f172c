"""Keyset (cursor) paging: a page starts after the last row of the page before, by the list's
own order, instead of skipping an offset.

An offset costs what it skips: page 10,000 of a list of fifty reads and throws away half a million
rows first. A keyset page asks for the rows *after* the key (the values of the order fields) of
the row it continues from, which an index on those fields finds at once, so a page deep in a
million rows answers as fast as the first. The key travels in the link as an opaque cursor.

The order is made total by adding the primary key when the order does not end with it. NULLs
sort where the database puts them (PostgreSQL: after every value going up; SQLite: before), so
a nullable field (the archival code of a draft) keeps the list's order unchanged.
"""

import base64
import binascii
import datetime
import decimal
import json
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connections
from django.db.models import Q, QuerySet


class BadCursor(ValueError):
    """A cursor that was not made by ``page`` for this order (edited by hand, or stale)."""


@dataclass
class Page:
    rows: list
    next: str | None  # the cursor of the page after, None on the last page
    previous: str | None  # the cursor of the page before, None on the first page


def order_of(queryset: QuerySet) -> list[str]:
    """The queryset's order as field names (``-`` for descending), ending with the primary key.

    Only plain names are understood (``"-year"``, ``"category__code"``); an order by an
    expression raises ``ValueError``: keyset paging needs values it can compare with."""
    query = queryset.query
    names = list(query.order_by or (query.get_meta().ordering if query.default_ordering else []))
    for name in names:
        if not isinstance(name, str) or name == "?":
            raise ValueError(f"keyset paging needs plain field names, not {name!r}")
    pk = query.get_meta().pk.name
    names = [pk if name == "pk" else f"-{pk}" if name == "-pk" else name for name in names]
    if not any(name.lstrip("-") == pk for name in names):
        names.append(f"-{pk}" if names and names[-1].startswith("-") else pk)
    return names


def page(queryset: QuerySet, *, size: int, cursor: str | None = None) -> Page:
    """The page of ``size`` rows that ``cursor`` points at (None: the first page).

    ``BadCursor`` when the cursor is not one of this order's."""
    order = order_of(queryset)
    backwards, key = (False, None) if not cursor else decode(cursor, order)
    rows_query = queryset.order_by(*order)
    try:
        if key is not None:
            rows_query = rows_query.filter(_beyond(queryset, order, key, backwards))
        if backwards:
            rows_query = rows_query.reverse()
        rows = list(rows_query[: size + 1])
    except (ValidationError, ValueError, TypeError) as error:  # a value the field cannot take
        raise BadCursor(str(error)) from None
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    first_page = key is None or (backwards and not more)
    last_page = not backwards and not more
    return Page(
        rows=rows,
        next=None if last_page or not rows else encode(order, key_of(rows[-1], order), False),
        previous=None if first_page or not rows else encode(order, key_of(rows[0], order), True),
    )


def key_of(row, order: list[str]) -> list:
    """The values of the order fields of ``row`` (a model instance), as JSON takes them."""
    values = []
    for name in order:
        value = row
        for part in name.lstrip("-").split("__"):
            value = getattr(value, part) if value is not None else None
        values.append(_plain(value))
    return values


def _plain(value):
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if hasattr(value, "pk"):  # a related object named by its field: its key is the column
        return value.pk
    return value


def encode(order: list[str], key: list, backwards: bool) -> str:
    text = json.dumps({"o": order, "k": key, "b": backwards}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str, order: list[str]) -> tuple[bool, list]:
    """(backwards, key) of a cursor made for ``order``; ``BadCursor`` otherwise."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(text)
        backwards, key = data["b"], data["k"]
        made_for = data["o"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise BadCursor("not a cursor") from None
    if made_for != order or not isinstance(key, list) or len(key) != len(order):
        raise BadCursor("a cursor of another order")
    if not isinstance(backwards, bool):
        raise BadCursor("not a cursor")
    return backwards, key


def _beyond(queryset: QuerySet, order: list[str], key: list, backwards: bool) -> Q:
    """Rows after ``key`` in ``order`` (before it when ``backwards``).

    Written as ``a ≥ x AND (a > x OR (a = x AND (b > y OR …)))``: the leading bound on the first
    field lets the database start its index scan at the key instead of filtering from the top."""
    nulls_last = connections[queryset.db].features.nulls_order_largest
    fields = [(name.lstrip("-"), name.startswith("-") != backwards) for name in order]
    nullable = [_nullable(queryset.model, name) for name, _down in fields]

    def after(i: int) -> Q:
        name, down = fields[i]
        past = _past(name, key[i], down, nullable[i], nulls_last)
        if i == len(fields) - 1:
            return past
        return past | (_equal(name, key[i]) & after(i + 1))

    first, down = fields[0]
    leading = _past(first, key[0], down, nullable[0], nulls_last) | _equal(first, key[0])
    return leading & after(0)


def _past(name: str, value, down: bool, nullable: bool, nulls_largest: bool) -> Q:
    """Rows whose ``name`` comes strictly after ``value`` going down (``down``) or up."""
    nothing = Q(pk__in=[])
    if value is None:
        if not nullable:
            raise BadCursor("no value")
        # NULL is the largest value (PostgreSQL) or the smallest (SQLite).
        return Q(**{f"{name}__isnull": False}) if down == nulls_largest else nothing
    beyond = Q(**{f"{name}__{'lt' if down else 'gt'}": value})
    if nullable and down != nulls_largest:
        beyond |= Q(**{f"{name}__isnull": True})
    return beyond


def _equal(name: str, value) -> Q:
    return Q(**{f"{name}__isnull": True}) if value is None else Q(**{name: value})


def _nullable(model, name: str) -> bool:
    field = None
    for part in name.split("__"):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return True
        model = field.related_model or model
    return bool(field and field.null)


@dataclass
class ListPage:
    """A page of a list page (HTML), with the query strings of its neighbours' links."""

    rows: list
    number: int  # shown to the reader ("page 3"); the cursor, not the number, finds the rows
    first_number: int  # the row number of the first row
    next_query: str | None
    previous_query: str | None
    bad_cursor: bool = False  # the link's cursor was not understood: the first page instead


def page_of_request(queryset: QuerySet, request, *, size: int) -> ListPage:
    """The page a list page's request asks for: ``?cursor=`` (with ``page=`` for the number
    shown), or, for links made before cursors, ``?page=N`` alone by offset."""
    query = request.GET.copy()
    cursor = query.pop("cursor", [None])[-1]
    try:
        number = max(1, int(query.pop("page", ["1"])[-1]))
    except ValueError:
        number = 1
    bad = False
    try:
        if cursor or number == 1:
            found = page(queryset, size=size, cursor=cursor)
        else:
            found = _by_offset(queryset, size=size, number=number)
    except BadCursor:
        bad, number = True, 1
        found = page(queryset, size=size)

    def link(cursor, shown):
        if cursor is None:
            return None
        linked = query.copy()
        linked["cursor"], linked["page"] = cursor, str(shown)
        return linked.urlencode()

    return ListPage(
        rows=found.rows,
        number=number,
        first_number=(number - 1) * size + 1,
        next_query=link(found.next, number + 1),
        previous_query=link(found.previous, max(1, number - 1)),
        bad_cursor=bad,
    )


def _by_offset(queryset: QuerySet, *, size: int, number: int) -> Page:
    order = order_of(queryset)
    rows = list(queryset.order_by(*order)[(number - 1) * size : number * size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return Page(
        rows=rows,
        next=encode(order, key_of(rows[-1], order), False) if more else None,
        previous=encode(order, key_of(rows[0], order), True) if rows else None,
    )
