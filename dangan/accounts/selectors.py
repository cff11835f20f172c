"""Reads about users and their rights. The record selector builds on ``record_scope``."""

from django.db.models import Q

from .models import Grant


def record_scope(user) -> Q | None:
    """The filter of records ``user`` may read, or None when they may read none.

    One Q per grant, OR-ed: ``fonds``, ``category`` and ``unit`` narrow when set, and the
    record's secrecy must not exceed the grant's level.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if not user.may_read_records:
        return None
    scope = None
    for grant in Grant.objects.filter(user=user).only(
        "fonds_id", "category_id", "unit_id", "max_secrecy"
    ):
        q = Q(secrecy__lte=grant.max_secrecy)
        if grant.fonds_id:
            q &= Q(fonds_id=grant.fonds_id)
        if grant.category_id:
            q &= Q(category_id=grant.category_id)
        if grant.unit_id:
            q &= Q(unit_id=grant.unit_id)
        scope = q if scope is None else scope | q
    return scope


def grant_covers(grant: Grant, record) -> bool:
    """Whether one grant covers one record (used to check a write target before saving)."""
    return (
        record.secrecy <= grant.max_secrecy
        and (grant.fonds_id is None or grant.fonds_id == record.fonds_id)
        and (grant.category_id is None or grant.category_id == record.category_id)
        and (grant.unit_id is None or grant.unit_id == record.unit_id)
    )


def may_write_record(user, record) -> bool:
    """An archivist may file or change a record that one of their grants covers."""
    if not (user and user.is_authenticated and user.is_active and user.may_edit_records):
        return False
    return any(grant_covers(g, record) for g in Grant.objects.filter(user=user))
