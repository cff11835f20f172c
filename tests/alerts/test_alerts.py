"""Security alerts: each kind raised by its event, shown to the security administrator with its
time, who, what and a link, mailed, acknowledged with a note, audited; ``dangan alerts``."""

import io
import json

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from dangan.accounts.models import Role, Secrecy
from dangan.accounts.services import set_role
from dangan.alerts import services
from dangan.alerts.models import SecurityAlert, SettingsSnapshot
from dangan.audit.models import AuditEvent
from dangan.audit.services import verify_chain

pytestmark = pytest.mark.django_db


@pytest.fixture
def security(make_user):
    return make_user(role=Role.SECURITY_ADMIN, grants=(), email="it-clerk@county.example")


@pytest.fixture(autouse=True)
def settings_seen(db):
    """The settings as an installation has seen them since its first start."""
    services.check_settings()


def _page(client, security):
    client.force_login(security)
    return client.get(reverse("alerts:list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_repeated_failed_log_ins_of_an_account_raise_an_alert_and_a_mail(
    client, archivist, security, settings, django_capture_on_commit_callbacks
):
    settings.DANGAN_LOGIN_MAX_FAILURES = 5
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            client.post(
                reverse("login"),
                {"username": archivist.username, "password": "wrong 1"},
                REMOTE_ADDR="203.0.113.7",
            )
    alert = SecurityAlert.objects.get(kind="failed_logins_account")
    assert archivist.username in alert.summary and "203.0.113.7" in alert.summary
    assert alert.link == reverse("admin:accounts_lockout_change", args=[alert.detail["lock"]])
    assert [m.to for m in mail.outbox] == [["it-clerk@county.example"]]
    assert archivist.username in mail.outbox[0].body
    page = _page(client, security)
    assert alert.summary in page and alert.link in page


def test_one_address_trying_many_names_raises_an_address_alert(client, security, settings):
    settings.DANGAN_LOGIN_MAX_FAILURES_PER_ADDRESS = 6
    for n in range(6):
        client.post(reverse("login"), {"username": f"x{n}", "password": "y"}, REMOTE_ADDR="1.2.3.4")
    assert SecurityAlert.objects.get(kind="failed_logins_address").key == "address:1.2.3.4"


def test_opening_a_record_outside_ones_scope_is_refused_audited_and_alerted(
    client, make_user, make_record, fonds, security
):
    from dangan.catalogue.models import Fonds

    other = Fonds.objects.exclude(pk=fonds.pk).first() or Fonds.objects.create(
        code="B002", name="另一全宗"
    )
    outside = make_record()
    clerk = make_user(grants=({"fonds": other, "max_secrecy": Secrecy.CONFIDENTIAL},))
    client.force_login(clerk)
    for _ in range(2):
        answer = client.get(reverse("catalogue:record-detail", args=[outside.pk]))
        assert answer.status_code == 404
    assert client.get(reverse("catalogue:record-detail", args=[10**9])).status_code == 404
    alert = SecurityAlert.objects.get(kind="out_of_scope")
    assert alert.who == clerk and alert.count == 2  # the non-existent record is no alert
    assert outside.title not in alert.summary and outside.archival_code not in alert.summary
    refused = AuditEvent.objects.filter(action="refuse", actor=clerk)
    assert refused.count() == 2 and refused.first().object_id == str(outside.pk)
    assert clerk.username in _page(client, security)


def test_slow_answers_of_a_page_raise_one_alert(client, settings):
    settings.DANGAN_ALERT_SLOW_P95_MS = 0.001
    for _ in range(services.SLOW_MIN_SAMPLES):
        client.get(reverse("login"))
    alert = SecurityAlert.objects.get(kind="slow_responses")
    assert alert.key == "slow:login" and alert.detail["answers"] == services.SLOW_MIN_SAMPLES
    settings.DANGAN_ALERT_SLOW_P95_MS = 60_000
    for _ in range(services.SLOW_MIN_SAMPLES):
        client.get(reverse("login"))
    assert SecurityAlert.objects.get(kind="slow_responses").count == 1


def test_a_role_change_and_a_changed_security_setting_raise_alerts(archivist, security, settings):
    set_role(actor=security, user=archivist, role=Role.LEADER)
    alert = SecurityAlert.objects.get(kind="security_change")
    assert alert.who == security and archivist.username in alert.summary
    settings.DANGAN_LOCKOUT_MINUTES = 0
    changed = services.check_settings()
    assert "DANGAN_LOCKOUT_MINUTES" in changed.summary
    assert changed.detail["DANGAN_LOCKOUT_MINUTES"] == {"before": 15, "after": 0}
    assert services.check_settings() is None  # told once


def test_every_watched_security_setting_is_a_real_setting(settings):
    """A misspelt name would be watched for ever without a change: hasattr is false each time."""
    from django.conf import settings as real

    assert [name for name in services.SECURITY_SETTINGS if not hasattr(real, name)] == []
    before = services._current_settings()
    assert set(before) == set(services.SECURITY_SETTINGS)
    services.check_settings()
    settings.SESSION_COOKIE_AGE = 3600  # DANGAN_SESSION_SECONDS=3600
    changed = services.check_settings()
    assert changed.detail["SESSION_COOKIE_AGE"] == {
        "before": before["SESSION_COOKIE_AGE"],
        "after": 3600,
    }


def test_a_setting_newly_watched_is_no_change(settings):
    services.check_settings()
    last = SettingsSnapshot.objects.order_by("-id").first()
    del last.values["SESSION_COOKIE_AGE"]  # as saved before the setting was watched
    last.save()
    assert services.check_settings() is None


def test_a_broken_audit_chain_raises_an_alert(archivist):
    event = AuditEvent.objects.order_by("id").first()
    AuditEvent.objects.filter(pk=event.pk).update(object_repr="edited behind the back")
    assert verify_chain()
    alert = SecurityAlert.objects.get(kind="verification_failed", key="audit-chain")
    assert alert.link == reverse("audit:verify")


def test_an_alert_is_acknowledged_with_a_note_and_that_is_audited(client, security):
    alert = services.raise_alert(kind="restore", summary="Restored from snapshot 2026-12-01")
    client.force_login(security)
    url = reverse("alerts:acknowledge", args=[alert.pk])
    client.post(url, {"note": ""})
    alert.refresh_from_db()
    assert alert.is_open  # no note, no acknowledgement
    client.post(url, {"note": "Planned restore after the disk change."})
    alert.refresh_from_db()
    assert not alert.is_open and alert.acknowledged_by == security
    assert AuditEvent.objects.filter(
        actor=security, object_type="alerts.securityalert", after__open=False
    ).exists()
    assert "Restored from snapshot" not in _page(client, security)
    client.force_login(security)
    shown = client.get(reverse("alerts:list") + "?all=1").content.decode()
    assert "Planned restore after the disk change." in shown


def test_only_the_security_administrator_sees_the_alerts(client, archivist, make_user):
    services.raise_alert(kind="restore", summary="Restored")
    for user in (archivist, make_user(role=Role.SYSTEM_ADMIN, grants=())):
        client.force_login(user)
        assert client.get(reverse("alerts:list")).status_code == 403


def test_the_command_lists_open_alerts_and_exits_1():
    out = io.StringIO()
    call_command("alerts", "--json", stdout=out)  # none open: returns (exit status 0)
    assert json.loads(out.getvalue()) == []
    services.raise_alert(kind="restore", summary="Restored from snapshot X")
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("alerts", "--json", stdout=out)
    assert exited.value.code == 1
    [listed] = json.loads(out.getvalue())
    assert listed["kind"] == "restore" and listed["summary"] == "Restored from snapshot X"
    assert listed["at"]


def test_a_mail_server_that_is_down_loses_no_alert(
    settings, security, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    with django_capture_on_commit_callbacks(execute=True):
        alert = services.raise_alert(kind="restore", summary="Restored")
    assert SecurityAlert.objects.get(pk=alert.pk).is_open
