"""Raising and acknowledging security alerts (安全告警).

Any app calls ``raise_alert`` where the event happens (the apps above through this import, the
ground apps below by their signals, see ``receivers``). An alert is written with an audit entry
in the caller's transaction and mailed, after the commit, to the security administrators (their
accounts' e-mail addresses) and to ``DANGAN_SECURITY_ALERT_EMAILS``.
"""

import datetime
import logging
import math

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.accounts.models import Role, User
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.security.duties import Duty, check_duty

from .models import SecurityAlert, SettingsSnapshot

logger = logging.getLogger(__name__)

Kind = SecurityAlert.Kind


def raise_alert(
    *, kind: str, summary: str, who=None, link: str = "", key: str = "", detail=None
) -> SecurityAlert:
    """Open an alert of ``kind``; while an alert of the same kind and ``key`` (the cause: an
    account, an address, a view) is still open, the repeat is counted on it instead."""
    now = timezone.now()
    with transaction.atomic():
        if key:
            alert = (
                SecurityAlert.objects.select_for_update()
                .filter(kind=kind, key=key[:200], acknowledged_at__isnull=True)
                .first()
            )
            if alert is not None:
                alert.count += 1
                alert.last_at = now
                alert.save(update_fields=["count", "last_at"])
                return alert
        alert = SecurityAlert.objects.create(
            kind=kind,
            key=key[:200],
            at=now,
            last_at=now,
            who=who if getattr(who, "pk", None) else None,
            who_name=getattr(who, "username", "") or "",
            summary=summary[:500],
            link=link[:500],
            detail=detail,
        )
        record_event(
            actor=None,
            action=AuditEvent.Action.CREATE,
            obj=alert,
            object_repr=str(alert)[:200],
            after={"kind": kind, "summary": alert.summary, "who": alert.who_name},
        )
        transaction.on_commit(lambda: _mail(alert))
    return alert


def recipients() -> list[str]:
    admins = User.objects.filter(role=Role.SECURITY_ADMIN, is_active=True).exclude(email="")
    return sorted({*admins.values_list("email", flat=True), *settings.DANGAN_SECURITY_ALERT_EMAILS})


def _mail(alert: SecurityAlert) -> None:
    to = recipients()
    if not to:
        return
    subject = _("Dangan security alert: %(kind)s") % {"kind": alert.get_kind_display()}
    link = alert.link
    if link.startswith("/") and settings.DANGAN_SITE_URL:
        link = settings.DANGAN_SITE_URL.rstrip("/") + link
    lines = [
        (_("time"), f"{timezone.localtime(alert.at):%Y-%m-%d %H:%M:%S}"),
        (_("who"), alert.who_name or "-"),
        (_("what"), alert.summary),
        (_("link"), link or "-"),
    ]
    body = "\n".join(f"{label}: {value}" for label, value in lines)
    try:
        send_mail(subject, body, None, to)
    except OSError:
        # The alert is on the page and in the trail; a mail server that is down must not
        # turn the event that raised it into an error.
        logger.exception("The security alert %s could not be mailed.", alert.pk)


def acknowledge(*, actor, alert: SecurityAlert, note: str) -> SecurityAlert:
    """The security administrator has looked at ``alert``: closed with ``note``, audited."""
    check_duty(actor, Duty.RIGHTS)
    note = (note or "").strip()
    if not note:
        raise ValidationError(_("Say in a note what was found or done."), code="note")
    with transaction.atomic():
        alert = SecurityAlert.objects.select_for_update().get(pk=alert.pk)
        if alert.acknowledged_at is not None:
            raise ValidationError(_("This alert was already acknowledged."), code="done")
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = actor
        alert.note = note[:2000]
        alert.save(update_fields=["acknowledged_at", "acknowledged_by", "note"])
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=alert,
            object_repr=str(alert)[:200],
            before={"open": True},
            after={"open": False, "note": alert.note},
        )
    return alert


# --- Security settings: a change between two starts is an alert ---------------------------------

#: The settings whose change weakens or strengthens the protection (docs/security.md): names of
#: Django settings (``dangan/settings.py``), not of the environment variables that set them.
SECURITY_SETTINGS = [
    "DANGAN_REQUIRE_2FA",
    "DANGAN_LOGIN_MAX_FAILURES",
    "DANGAN_LOGIN_MAX_FAILURES_PER_ADDRESS",
    "DANGAN_LOGIN_FAILURE_WINDOW_MINUTES",
    "DANGAN_LOCKOUT_MINUTES",
    "DANGAN_LOCKOUT_DOUBLING",
    "DANGAN_LOCKOUT_MAX_MINUTES",
    "DANGAN_IDLE_MINUTES",
    "SESSION_COOKIE_AGE",  # DANGAN_SESSION_SECONDS
    "DANGAN_API_BASIC_USERS",
    "DANGAN_RATE_LIMITS",
    "DANGAN_CONTENT_ENCRYPTION",
    "DANGAN_CLAMAV_SOCKET",
    "SESSION_COOKIE_SECURE",  # DANGAN_HTTPS
    "DEBUG",  # DANGAN_DEBUG
]


def _current_settings() -> dict:
    values = {}
    for name in SECURITY_SETTINGS:
        if hasattr(settings, name):
            value = getattr(settings, name)
            values[name] = list(value) if isinstance(value, tuple) else value
    return values


def check_settings() -> SecurityAlert | None:
    """Compare the security settings with those last seen; an alert names what changed.
    Called by ``dangan run``, ``dangan alerts`` and the alerts page."""
    import json

    current = json.loads(json.dumps(_current_settings(), default=str))
    with transaction.atomic():
        last = SettingsSnapshot.objects.order_by("-id").first()
        if last is not None and last.values == current:
            return None
        SettingsSnapshot.objects.create(at=timezone.now(), values=current)
        if last is None:
            return None  # the first start: nothing to compare with
        changed = {
            name: {"before": last.values.get(name), "after": current.get(name)}
            for name in sorted(set(last.values) | set(current))
            # A name newly watched (absent from the last snapshot) is not a change of it.
            if name in last.values and last.values.get(name) != current.get(name)
        }
        if not changed:
            return None
        summary = _("Security settings changed: %(names)s") % {"names": ", ".join(changed)}
        return raise_alert(kind=Kind.SECURITY_CHANGE, summary=summary, detail=changed)


# --- Slow responses: the 95th percentile of a view over five minutes ----------------------------
#
# Every web process counts its answers in the shared cache (Redis when several processes serve:
# ``DANGAN_CACHE_URL`` / ``REDIS_URL``; one process's memory otherwise), in buckets of ten
# seconds, so the percentile is over every process's answers. Per view and bucket: the answers,
# those over the limit, and those over the limit by time bin (for the figure shown). The 95th
# percentile (nearest rank) is over the limit exactly when more than ``n - ceil(0.95 n)``
# answers are: a fast answer never raises it, so the window is read only after a slow one.

SLOW_WINDOW = datetime.timedelta(minutes=5)
SLOW_BUCKET_SECONDS = 10
#: Fewer answers than this in the window say nothing about the 95th percentile.
SLOW_MIN_SAMPLES = 20
#: Upper edges (ms) of the bins a slow answer is counted in: the percentile shown is one of them.
SLOW_BINS_MS = [100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000, 30_000, 60_000]
_SLOW_KEY = "dangan:slow"


def _slow_key(view: str, bucket: int, name: str) -> str:
    return f"{_SLOW_KEY}:{view}:{bucket}:{name}"


def _count(key: str) -> None:
    """One more in ``key``: the counter exists but for the first answer of a bucket, so try
    the increment first (one round trip fewer to Redis than adding first)."""
    try:
        cache.incr(key)
    except ValueError:  # the bucket's first answer here
        timeout = SLOW_WINDOW.total_seconds() + 2 * SLOW_BUCKET_SECONDS
        if not cache.add(key, 1, timeout=timeout):
            cache.incr(key)  # another process made it in between


def _bin_ms(seconds: float) -> int:
    ms = seconds * 1000
    return next((edge for edge in SLOW_BINS_MS if ms <= edge), SLOW_BINS_MS[-1])


def _window_counts(view: str, buckets, names) -> dict[str, int]:
    counts = cache.get_many([_slow_key(view, b, name) for b in buckets for name in names])
    return {name: sum(counts.get(_slow_key(view, b, name), 0) for b in buckets) for name in names}


def observe_response(*, view: str, seconds: float, at: float) -> SecurityAlert | None:
    """Count one answer's time (shared by every web process); an alert when the view's 95th
    percentile over the last five minutes is above ``DANGAN_ALERT_SLOW_P95_MS``."""
    threshold = settings.DANGAN_ALERT_SLOW_P95_MS / 1000
    if not threshold:
        return None
    bucket = int(at // SLOW_BUCKET_SECONDS)
    _count(_slow_key(view, bucket, "n"))
    if seconds <= threshold:
        return None
    _count(_slow_key(view, bucket, "slow"))
    _count(_slow_key(view, bucket, f"ms{_bin_ms(seconds)}"))
    buckets = range(
        bucket - int(SLOW_WINDOW.total_seconds() // SLOW_BUCKET_SECONDS) + 1, bucket + 1
    )
    total = _window_counts(view, buckets, ["n", "slow"])
    answers, slow = total["n"], total["slow"]
    rank = math.ceil(answers * 0.95)  # the nearest rank of the 95th percentile
    if answers < SLOW_MIN_SAMPLES or answers - slow >= rank:
        return None
    if not cache.add(f"{_SLOW_KEY}:{view}:alerted", True, timeout=SLOW_WINDOW.total_seconds()):
        return None  # one alert per window, not one per answer
    total = _window_counts(view, buckets, [f"ms{edge}" for edge in SLOW_BINS_MS])
    above, p95_ms = answers - slow, SLOW_BINS_MS[-1]
    for edge in SLOW_BINS_MS:
        above += total[f"ms{edge}"]
        if above >= rank:
            p95_ms = edge
            break
    summary = _(
        "The page %(view)s answered slowly: 95%% of %(count)d answers within %(ms)d ms over "
        "five minutes (limit %(limit)d ms)."
    ) % {"view": view, "count": answers, "ms": p95_ms, "limit": threshold * 1000}
    return raise_alert(
        kind=Kind.SLOW_RESPONSES,
        summary=summary,
        key=f"slow:{view}",
        detail={"view": view, "p95_ms": p95_ms, "answers": answers, "slow": slow},
    )


# --- Attempts to open what lies outside one's scope --------------------------------------------


def out_of_scope(*, user, object_type: str, pk) -> SecurityAlert:
    """``user`` asked for an object (``object_type`` #``pk``) that exists but lies outside their
    grants: they were answered 404; the attempt is audited as refused and alerted (counted on
    the open alert of the same user)."""
    from django.urls import reverse

    record_event(
        actor=user,
        action=AuditEvent.Action.REFUSE,
        object_type=object_type,
        object_id=str(pk),
        detail={"reason": "outside scope"},
    )
    return raise_alert(
        kind=Kind.OUT_OF_SCOPE,
        summary=_("%(user)s tried to open %(type)s #%(pk)s outside their scope.")
        % {"user": user.username, "type": object_type, "pk": pk},
        who=user,
        link=reverse("admin:accounts_user_change", args=[user.pk]),
        key=f"scope:{user.pk}",
        detail={"object_type": object_type, "pk": str(pk)},
    )
