"""Lock-out after failed log-ins that an outsider cannot turn against the staff.

Failed attempts (a wrong password on the log-in page, the portal or HTTP Basic on the API, a
wrong second-factor code, a wrong password when signing a custody hand-over) are counted twice:
per account (the name typed, so an unknown name behaves like a known one) and per client
address. At ``DANGAN_LOGIN_MAX_FAILURES`` failures of one account, or
``DANGAN_LOGIN_MAX_FAILURES_PER_ADDRESS`` from one address, that account or that address is
locked (a ``Lockout``) for ``DANGAN_LOCKOUT_MINUTES`` (15), doubled for each earlier lock of the
same account or address in the last 24 hours (15, 30, 60 … up to ``DANGAN_LOCKOUT_MAX_MINUTES``).
The lock ends by itself, or earlier when the security administrator lifts it; 0 minutes means
"until lifted". At the next log-in the owner is told how many failed attempts there were and
from where.

django-axes (``DESIGN.md``) does the parts it does well: its authentication backend refuses a
locked request inside ``django.contrib.auth.authenticate`` (so the log-in page, the portal, the
admin and DRF's Basic authentication are all guarded by one check), it resolves the client's
address and agent, and it keeps the failure log (``AccessFailureLog``) and the log of log-ins
(``AccessLog``). The decision to lock is ours (``LockoutHandler``), because axes lacks:

* different limits for an account and an address (it compares every parameter to one limit);
* a lock that grows on repeats (its cool-off is one duration, and its clean-up deletes every
  attempt older than the current request's cool-off, which would forget longer locks);
* a lock as one object that the security administrator lifts, with who and when in the audit
  trail, and an alert when it is set;
* failures outside a request (a wrong password when signing a custody hand-over).
"""

import datetime

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessFailureLog
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.audit.models import AuditEvent
from dangan.audit.services import current_ip, record_event
from dangan.security import clients
from dangan.security.duties import Duty, check_duty

from .models import Lockout, User

#: Earlier locks within this time make the next one twice as long.
REPEAT_WINDOW = datetime.timedelta(hours=24)


def client_address(request) -> str | None:
    """The client's address as the lock-out counts it (axes' ``AXES_CLIENT_IP_CALLABLE``): the
    project's one rule (``security.clients``, which believes X-Forwarded-For only from
    ``DANGAN_TRUSTED_PROXIES``); None when unknown."""
    address = clients.client_address(request)
    return None if address == clients.UNKNOWN else address


def active_lock(*, username: str = "", address: str | None = None) -> Lockout | None:
    """The lock in force on the account ``username`` or on ``address``, if any (the later
    ending one first)."""
    now = timezone.now()
    keys = Q()
    if username:
        keys |= Q(scope=Lockout.Scope.ACCOUNT, key=username[:150])
    if address:
        keys |= Q(scope=Lockout.Scope.ADDRESS, key=address)
    if not keys:
        return None
    locks = Lockout.objects.filter(keys, lifted_at__isnull=True)
    locks = locks.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    return locks.order_by("-ends_at").first()


def active_locks():
    """Every lock in force (accounts and addresses), newest first: the security administrator's
    to look at and, when the owner is known, to lift."""
    now = timezone.now()
    return Lockout.objects.filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=now), lifted_at__isnull=True
    ).order_by("-started_at", "-pk")


def is_locked(username: str) -> bool:
    return active_lock(username=username) is not None


def _duration(scope: str, key: str, now) -> datetime.timedelta | None:
    """How long a new lock of ``key`` lasts: None is "until lifted"."""
    minutes = settings.DANGAN_LOCKOUT_MINUTES
    if not minutes:
        return None
    earlier = Lockout.objects.filter(scope=scope, key=key, started_at__gte=now - REPEAT_WINDOW)
    repeats = earlier.count() if settings.DANGAN_LOCKOUT_DOUBLING else 0
    minutes = min(minutes * 2 ** min(repeats, 16), settings.DANGAN_LOCKOUT_MAX_MINUTES)
    return datetime.timedelta(minutes=minutes)


def _failures_since(scope: str, key: str, now) -> list[AccessFailureLog]:
    """The failures that count towards a new lock of ``key``: within the window, after the
    last lock of the same key and (for an account) after its owner's last log-in."""
    since = now - datetime.timedelta(minutes=settings.DANGAN_LOGIN_FAILURE_WINDOW_MINUTES)
    last_lock = Lockout.objects.filter(scope=scope, key=key).order_by("-started_at").first()
    if last_lock is not None:
        since = max(since, last_lock.lifted_at or last_lock.ends_at or last_lock.started_at)
    if scope == Lockout.Scope.ACCOUNT:
        last_login = User.objects.filter(username=key).values_list("last_login", flat=True).first()
        if last_login:
            since = max(since, last_login)
        rows = AccessFailureLog.objects.filter(username=key)
    else:
        rows = AccessFailureLog.objects.filter(ip_address=key)
    return list(rows.filter(attempt_time__gt=since).only("ip_address", "username"))


def _lock(scope: str, key: str, failures: list, now) -> Lockout:
    duration = _duration(scope, key, now)
    lock = Lockout.objects.create(
        scope=scope,
        key=key,
        failures=len(failures),
        addresses=sorted({f.ip_address for f in failures if f.ip_address}),
        started_at=now,
        ends_at=None if duration is None else now + duration,
    )
    user = User.objects.filter(username=key).first() if scope == Lockout.Scope.ACCOUNT else None
    record_event(
        actor=None,
        action=AuditEvent.Action.UPDATE,
        obj=user or lock,
        object_repr=key if user is None else "",
        after={
            "locked": True,
            "scope": scope,
            "failures": lock.failures,
            "until": lock.ends_at.isoformat() if lock.ends_at else None,
            "addresses": lock.addresses,
        },
    )
    from .signals import locked_out

    locked_out.send(sender=Lockout, lock=lock)
    return lock


def record_failure(
    *, username: str, address: str | None = None, path: str = "", user_agent: str = ""
) -> Lockout | None:
    """Count one failed attempt; the lock now in force on the account or address, if any."""
    username = username[:150]
    if address is None:
        address = current_ip.get()
    now = timezone.now()
    with transaction.atomic():
        AccessFailureLog.objects.create(
            username=username,
            ip_address=address,
            user_agent=user_agent[:255],
            path_info=path[:255],
            http_accept="",
        )
        if active_lock(username=username, address=address) is None:
            limits = [(Lockout.Scope.ACCOUNT, username, settings.DANGAN_LOGIN_MAX_FAILURES)]
            if address:
                per_address = settings.DANGAN_LOGIN_MAX_FAILURES_PER_ADDRESS
                limits.append((Lockout.Scope.ADDRESS, address, per_address))
            for scope, key, limit in limits:
                failures = _failures_since(scope, key, now)
                if len(failures) >= limit:
                    _lock(scope, key, failures, now)
    return active_lock(username=username, address=address)


def lift(*, actor, lock: Lockout) -> None:
    """End ``lock`` now (the security administrator's duty), audited."""
    if actor is not None:
        check_duty(actor, Duty.RIGHTS)
        if lock.scope == Lockout.Scope.ACCOUNT and lock.key == actor.username:
            raise PermissionDenied(_("Nobody may change their own rights."))
    with transaction.atomic():
        lock.lifted_at = timezone.now()
        lock.lifted_by = actor
        lock.save(update_fields=["lifted_at", "lifted_by"])
        user = User.objects.filter(username=lock.key).first()
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=user if lock.scope == Lockout.Scope.ACCOUNT and user else lock,
            before={"locked": True, "scope": lock.scope, "key": lock.key},
            after={"locked": False},
        )


def lift_account(*, actor, username: str) -> int:
    """Lift every lock in force on the account ``username``; how many were lifted."""
    locks = list(
        Lockout.objects.filter(
            scope=Lockout.Scope.ACCOUNT, key=username, lifted_at__isnull=True
        ).filter(Q(ends_at__isnull=True) | Q(ends_at__gt=timezone.now()))
    )
    for lock in locks:
        lift(actor=actor, lock=lock)
    return len(locks)


def failures_since_last_login(user, previous_login) -> list[dict]:
    """What the owner is told at log-in: failed attempts on their account since their previous
    log-in (or the last 30 days), by address, most first."""
    since = previous_login or timezone.now() - datetime.timedelta(days=30)
    rows = (
        AccessFailureLog.objects.filter(username=user.username, attempt_time__gt=since)
        .values("ip_address")
        .annotate(count=Count("id"))
        .order_by("-count")
    )
    return [{"address": r["ip_address"] or "?", "count": r["count"]} for r in rows]


def prune_login_log(*, actor, older_than_days: int | None = None) -> dict:
    """Remove the failed log-ins (``AccessFailureLog``) and the log-ins (``AccessLog``) older
    than ``older_than_days`` (``DANGAN_LOGIN_LOG_KEEP_DAYS``; never under the six months the
    law asks of security events, ``audit.services.MIN_RETENTION_DAYS``), audited with the
    counts. Locks (``Lockout``) stay: they are few, and the trail points at them.

    Run each day by ``dangan worker`` and by hand with ``dangan prune-logins``."""
    from axes.models import AccessLog

    from dangan.audit.services import MIN_RETENTION_DAYS

    days = settings.DANGAN_LOGIN_LOG_KEEP_DAYS if older_than_days is None else older_than_days
    if days < MIN_RETENTION_DAYS:
        raise ValidationError(
            _("Log-in records are kept %(days)d days at least.") % {"days": MIN_RETENTION_DAYS},
            code="too_young",
        )
    cutoff = timezone.now() - datetime.timedelta(days=days)
    with transaction.atomic():
        failures, _by_model = AccessFailureLog.objects.filter(attempt_time__lt=cutoff).delete()
        logins, _by_model = AccessLog.objects.filter(attempt_time__lt=cutoff).delete()
        removed = {"failed_logins": failures, "logins": logins}
        if failures or logins:
            record_event(
                actor=actor,
                action=AuditEvent.Action.PRUNE,
                object_type="axes.accessfailurelog",
                object_repr=_("log-in records"),
                detail={"older_than_days": days, **removed},
            )
    return removed


def tell_failures(request, user, previous_login) -> None:
    """The owner learns at log-in of the failed attempts on their account since the last one."""
    failures = failures_since_last_login(user, previous_login)
    if failures:
        where = ", ".join(f"{f['address']} ({f['count']})" for f in failures)
        messages.warning(
            request,
            _(
                "Since your last log-in there were %(count)d failed attempts to log in to your "
                "account, from: %(where)s. If that was not you, tell the security administrator."
            )
            % {"count": sum(f["count"] for f in failures), "where": where},
        )


class LockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler with our decision (see the module's docstring): axes asks
    ``is_locked`` inside ``authenticate()``; a failed log-in is recorded by ``record_failure``."""

    def is_locked(self, request, credentials=None) -> bool:
        username = get_client_username(request, credentials) or ""
        return active_lock(username=username, address=request.axes_ip_address) is not None

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        if request is None or getattr(request, "axes_locked_out", False):
            return  # no request: the caller records; refused while locked: not a new failure
        record_failure(
            username=get_client_username(request, credentials) or "",
            address=request.axes_ip_address,
            path=request.axes_path_info or "",
            user_agent=request.axes_user_agent or "",
        )
