"""The log of failed log-ins (django-axes' ``AccessFailureLog``) and of log-ins (``AccessLog``)
does not grow for ever: what is older than ``DANGAN_LOGIN_LOG_KEEP_DAYS`` is pruned (by
``dangan worker`` each day, or ``dangan prune-logins``), never anything younger than the six
months the law asks, and the pruning is audited."""

import datetime
import io

import pytest
from axes.models import AccessFailureLog, AccessLog
from django.core.management import CommandError, call_command
from django.utils import timezone

from dangan.accounts import lockout
from dangan.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _failure(days_ago: int, username="leader") -> AccessFailureLog:
    row = AccessFailureLog.objects.create(
        username=username, ip_address="203.0.113.9", user_agent="x", path_info="/login/"
    )
    AccessFailureLog.objects.filter(pk=row.pk).update(
        attempt_time=timezone.now() - datetime.timedelta(days=days_ago)
    )
    return row


def _login(days_ago: int) -> AccessLog:
    row = AccessLog.objects.create(username="leader", ip_address="203.0.113.9", user_agent="x")
    AccessLog.objects.filter(pk=row.pk).update(
        attempt_time=timezone.now() - datetime.timedelta(days=days_ago)
    )
    return row


def test_old_log_in_records_are_pruned_and_the_pruning_audited(settings):
    settings.DANGAN_LOGIN_LOG_KEEP_DAYS = 200
    old, kept = _failure(201), _failure(199)
    old_login, kept_login = _login(365), _login(10)
    out = io.StringIO()
    call_command("prune_logins", stdout=out)
    assert list(AccessFailureLog.objects.values_list("pk", flat=True)) == [kept.pk]
    assert list(AccessLog.objects.values_list("pk", flat=True)) == [kept_login.pk]
    assert "1 failed log-ins and 1 log-ins removed" in out.getvalue()
    event = AuditEvent.objects.get(action=AuditEvent.Action.PRUNE)
    assert event.detail == {"older_than_days": 200, "failed_logins": 1, "logins": 1}
    assert old.pk != kept.pk and old_login.pk != kept_login.pk


def test_nothing_younger_than_six_months_is_pruned(settings):
    _failure(100)
    with pytest.raises(CommandError, match="180"):
        call_command("prune_logins", "--older-than", "30")
    settings.DANGAN_LOGIN_LOG_KEEP_DAYS = 7
    with pytest.raises(Exception, match="180"):
        lockout.prune_login_log(actor=None)
    assert AccessFailureLog.objects.count() == 1
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PRUNE).exists()


def test_pruning_keeps_what_the_lock_out_and_the_owners_warning_count(settings, make_user):
    """The failures of the last hour (the lock-out's window) and since the owner's last log-in
    (told at the next one) are far younger than anything pruned."""
    user = make_user()
    for _ in range(settings.DANGAN_LOGIN_MAX_FAILURES - 1):
        _failure(0, username=user.username)
    _failure(400, username=user.username)
    lockout.prune_login_log(actor=None)
    assert lockout.record_failure(username=user.username, address="203.0.113.9") is not None
    told = lockout.failures_since_last_login(user, None)
    assert told == [{"address": "203.0.113.9", "count": settings.DANGAN_LOGIN_MAX_FAILURES}]
