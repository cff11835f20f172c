"""Reads about users and their rights. The record selector builds on ``record_scope``."""

import contextlib
import contextvars

from django.core.cache import cache
from django.db.models import Q

from dangan.security.permissions import DEFAULT_ROLES, FIXED_ROLES
from dangan.security.roles import Role

from .models import Grant, RoleDefinition, Unit, User

UNIT_TREE_KEY = "dangan:unit-tree"

#: What ``read_once`` keeps for the block it wraps (None outside such a block).
_read_once: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "dangan_accounts_read_once", default=None
)


@contextlib.contextmanager
def read_once():
    """Inside this block a user's grants and the tree of units are read once, however many
    selectors ask (a record page asks five times). For requests that change no rights: GET
    requests wrap themselves in it (``accounts.middleware``)."""
    token = _read_once.set({})
    try:
        yield
    finally:
        _read_once.reset(token)


def _remembered(key, read):
    memo = _read_once.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]


def user_grants(user) -> list[Grant]:
    """The user's grants (read once inside ``read_once``)."""
    return _remembered(("grants", user.pk), lambda: list(Grant.objects.filter(user=user)))


def unit_tree() -> dict[int, tuple[int | None, str]]:
    """unit id -> (parent id, kind) of every unit, from the shared cache (a province has some
    thousands of units; they change rarely, and a change drops the cached tree)."""
    return _remembered(UNIT_TREE_KEY, _cached_unit_tree)


def _cached_unit_tree():
    tree = cache.get(UNIT_TREE_KEY)
    if tree is None:
        tree = {
            pk: (parent, kind)
            for pk, parent, kind in Unit.objects.values_list("pk", "parent_id", "kind")
        }
        cache.set(UNIT_TREE_KEY, tree, timeout=300)
    return tree


def forget_unit_tree(**kwargs) -> None:
    """Drop the cached tree now and again at commit (a reader in between cached the old one)."""
    from django.db import transaction

    cache.delete(UNIT_TREE_KEY)
    transaction.on_commit(lambda: cache.delete(UNIT_TREE_KEY))


def county_of(unit_id) -> int | None:
    """The county (县) a unit lies in: itself or its nearest ancestor of kind ``county``."""
    tree = unit_tree()
    seen = set()
    while unit_id is not None and unit_id in tree and unit_id not in seen:
        seen.add(unit_id)
        parent, kind = tree[unit_id]
        if kind == Unit.Kind.COUNTY:
            return unit_id
        unit_id = parent
    return None


def units_within(county_id) -> set[int]:
    """The county and every unit under it, however deep."""
    children = {}
    for pk, (parent, _kind) in unit_tree().items():
        children.setdefault(parent, []).append(pk)
    found, todo = set(), [county_id]
    while todo:
        pk = todo.pop()
        if pk not in found:
            found.add(pk)
            todo.extend(children.get(pk, []))
    return found


def _unit_rule(grant: Grant, home: set[int] | None):
    """The units a grant covers: None for any; otherwise a set of unit ids.

    A grant naming a county covers the whole county; naming another unit, that unit alone.
    A grant for "any unit" held by the staff of a county covers that county only ("unless
    granted more": a grant naming another county). Staff outside every county (a provincial
    office, or a one-county installation with no county units) keep "any".
    """
    if grant.unit_id:
        if unit_tree().get(grant.unit_id, (None, None))[1] == Unit.Kind.COUNTY:
            return units_within(grant.unit_id)
        return {grant.unit_id}
    return home


def _home_units(user) -> set[int] | None:
    county = county_of(getattr(user, "unit_id", None))
    return None if county is None else units_within(county)


def record_scope(user) -> Q | None:
    """The filter of records ``user`` may read, or None when they may read none.

    One Q per grant, OR-ed: ``fonds``, ``category`` and ``unit`` narrow when set, and the
    record's secrecy must not exceed the grant's level. The staff of a county see only their
    county's records unless a grant names more (``_unit_rule``).
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if not user.may_read_records:
        return None
    scope = None
    home = _home_units(user)
    for grant in user_grants(user):
        q = Q(secrecy__lte=grant.max_secrecy)
        if grant.fonds_id:
            q &= Q(fonds_id=grant.fonds_id)
        if grant.category_id:
            q &= Q(category_id=grant.category_id)
        units = _unit_rule(grant, home)
        if units is not None and len(units) == 1:
            q &= Q(unit_id=next(iter(units)))
        elif units is not None:
            q &= Q(unit_id__in=sorted(units))
        scope = q if scope is None else scope | q
    return scope


def grant_covers(grant: Grant, record, *, home: set[int] | None = None) -> bool:
    """Whether one grant covers one record (used to check a write target before saving).

    ``home``: the units of the grant holder's county (``_home_units``), None outside counties.
    """
    units = _unit_rule(grant, home)
    return (
        record.secrecy <= grant.max_secrecy
        and (grant.fonds_id is None or grant.fonds_id == record.fonds_id)
        and (grant.category_id is None or grant.category_id == record.category_id)
        and (units is None or record.unit_id in units)
    )


def may_write_record(user, record) -> bool:
    """An archivist may file or change a record that one of their grants covers."""
    if not (user and user.is_authenticated and user.is_active and user.may_edit_records):
        return False
    if getattr(record, "state", None) == "purged":  # a tombstone (dangan.appraisal) is final
        return False
    home = _home_units(user)
    return any(grant_covers(g, record, home=home) for g in user_grants(user))


# --- roles (security.permissions) ----------------------------------------------------------------


def role_permissions(code: str) -> frozenset[str]:
    """What role ``code`` may do: fixed for the three administrators and the citizen, the
    county's ``RoleDefinition`` for the others (read once inside ``read_once``). A default role
    whose row is missing (an emptied table) keeps today's permissions; an unknown code, none."""
    if code in FIXED_ROLES:
        return FIXED_ROLES[code]
    return _remembered(("role", code), lambda: _defined_permissions(code))


def _defined_permissions(code: str) -> frozenset[str]:
    row = RoleDefinition.objects.filter(code=code).values_list("permissions", flat=True).first()
    if row is None:
        return DEFAULT_ROLES.get(code, frozenset())
    return frozenset(row)


def business_roles() -> list[RoleDefinition]:
    """The county's roles (today's defaults and its own), each with its permissions; a default
    role whose row is missing is listed unsaved, with today's permissions."""
    rows = {r.code: r for r in RoleDefinition.objects.all()}
    for code, codes in DEFAULT_ROLES.items():
        rows.setdefault(code, RoleDefinition(code=code, permissions=sorted(codes)))
    return sorted(rows.values(), key=lambda r: r.code)


def role_choices() -> list[tuple[str, str]]:
    """(code, name) of every role a user may be given: the county's roles, then the fixed."""
    return [(r.code, str(r)) for r in business_roles()] + [
        (code, str(Role(code).label)) for code in FIXED_ROLES
    ]


def role_label(code: str) -> str:
    """A role's name in the user's language (its code when nobody knows it)."""
    if code in FIXED_ROLES or (code in DEFAULT_ROLES and not _named(code)):
        return str(Role(code).label)
    return _named(code) or code


def _named(code: str) -> str:
    return _remembered(
        ("role-name", code),
        lambda: (
            RoleDefinition.objects.filter(code=code).values_list("name", flat=True).first() or ""
        ),
    )


def roles_with(permission: str) -> list[str]:
    """The codes of the roles that hold ``permission``."""
    fixed = [code for code, codes in FIXED_ROLES.items() if permission in codes]
    return [r.code for r in business_roles() if permission in r.permissions] + fixed


def users_with(permission: str):
    """Active users whose role holds ``permission`` (e.g. the leaders who approve)."""
    return User.objects.filter(is_active=True, role__in=roles_with(permission))
