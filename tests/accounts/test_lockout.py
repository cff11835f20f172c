"""Lock-out that an outsider cannot turn against the staff: failures counted per account and per
client address, locks that end by themselves (15 minutes, doubling on repeats), lifted by the
security administrator, told to the owner at the next log-in; the same on the log-in page, the
API's Basic authentication and the portal."""

import base64
import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from dangan.accounts.models import Lockout, Role
from dangan.audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

OUTSIDER = "203.0.113.7"
OFFICE = "10.1.2.3"


@pytest.fixture(autouse=True)
def lockout_defaults(settings):
    settings.DANGAN_LOGIN_MAX_FAILURES = 5
    settings.DANGAN_LOGIN_MAX_FAILURES_PER_ADDRESS = 20
    settings.DANGAN_LOCKOUT_MINUTES = 15
    settings.DANGAN_LOCKOUT_DOUBLING = True
    settings.DANGAN_RATE_LIMITS = {"login": (1000, 60), "search": (1000, 60)}


def _password(client, username, password=PASSWORD, address=OFFICE):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        HTTP_ACCEPT_LANGUAGE="en",
    )


def _logged_past_password(answer) -> bool:
    """The password step passed: on to the second factor (or its set-up)."""
    return answer.status_code == 302 and answer["Location"] in (
        reverse("login-enrol"),
        reverse("login-verify"),
    )


def _later(minutes):
    return freeze_time(timezone.now() + datetime.timedelta(minutes=minutes), tick=True)


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes_only(client, archivist):
    for _ in range(5):
        answer = _password(client, archivist.username, "wrong password 1", address=OUTSIDER)
    assert "locked until" in answer.context["error"]
    # during the lock even the right password from the office is refused
    answer = _password(client, archivist.username, address=OFFICE)
    assert not _logged_past_password(answer) and "locked until" in answer.context["error"]
    lock = Lockout.objects.get(scope="account", key=archivist.username)
    assert lock.failures == 5 and lock.addresses == [OUTSIDER]
    assert lock.ends_at - lock.started_at == datetime.timedelta(minutes=15)
    # not for ever: after the delay the right password from the office logs in
    with _later(16):
        assert _logged_past_password(_password(client, archivist.username, address=OFFICE))


def test_a_refused_attempt_during_the_lock_does_not_extend_it_but_is_audited(client, archivist):
    for _ in range(5):
        _password(client, archivist.username, "wrong password 1", address=OUTSIDER)
    with _later(10):
        _password(client, archivist.username, "wrong password 2", address=OUTSIDER)
    assert Lockout.objects.count() == 1
    refused = AuditEvent.objects.filter(action="login_failed", detail__refused="locked")
    assert refused.count() == 1 and refused.get().ip == OUTSIDER
    with _later(16):
        assert _logged_past_password(_password(client, archivist.username))


def test_a_repeated_lock_lasts_twice_as_long(client, archivist):
    for _ in range(5):
        _password(client, archivist.username, "wrong 1", address=OUTSIDER)
    with _later(16):
        for _ in range(5):
            _password(client, archivist.username, "wrong 2", address=OUTSIDER)
        second = Lockout.objects.order_by("-started_at").first()
        assert second.ends_at - second.started_at == datetime.timedelta(minutes=30)
    with _later(16 + 20):
        assert not _logged_past_password(_password(client, archivist.username))
    with _later(16 + 31):
        assert _logged_past_password(_password(client, archivist.username))


def test_one_address_trying_many_names_is_locked_and_others_are_not(client, archivist, settings):
    settings.DANGAN_LOGIN_MAX_FAILURES_PER_ADDRESS = 8
    for n in range(8):
        _password(client, f"guess{n}", "wrong 1", address=OUTSIDER)
    assert Lockout.objects.filter(scope="address", key=OUTSIDER).exists()
    assert not Lockout.objects.filter(scope="account").exists()
    # the outsider's address is refused even with a right password; the office is not
    assert not _logged_past_password(_password(client, archivist.username, address=OUTSIDER))
    assert _logged_past_password(_password(client, archivist.username, address=OFFICE))


def test_the_security_administrator_sees_and_lifts_a_lock(client, archivist, make_user, settings):
    settings.DANGAN_LOCKOUT_MINUTES = 0  # configured: a lock lasts until it is lifted
    for _ in range(5):
        _password(client, archivist.username, "wrong 1", address=OUTSIDER)
    with _later(24 * 60):
        assert not _logged_past_password(_password(client, archivist.username))

    security = make_user(role=Role.SECURITY_ADMIN, grants=())
    client.force_login(security)
    page = client.get(reverse("admin:accounts_lockout_changelist") + "?in_force=yes")
    assert archivist.username in page.content.decode() and OUTSIDER in page.content.decode()
    lock = Lockout.objects.get()
    client.post(
        reverse("admin:accounts_lockout_changelist"),
        {"action": "lift", "_selected_action": [lock.pk]},
    )
    lock.refresh_from_db()
    assert lock.lifted_by == security
    assert AuditEvent.objects.filter(actor=security, after__locked=False).exists()
    client.logout()
    assert _logged_past_password(_password(client, archivist.username))


def test_only_the_security_administrator_lifts_locks(client, archivist, make_user):
    for _ in range(5):
        _password(client, archivist.username, "wrong 1", address=OUTSIDER)
    client.force_login(make_user(role=Role.SYSTEM_ADMIN, grants=()))
    assert client.get(reverse("admin:accounts_lockout_changelist")).status_code == 403
    assert Lockout.objects.get().in_force


def test_the_user_admin_unlock_action_lifts_the_account_lock(client, archivist, make_user):
    for _ in range(5):
        _password(client, archivist.username, "wrong 1", address=OUTSIDER)
    client.force_login(make_user(role=Role.SECURITY_ADMIN, grants=()))
    client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "unlock", "_selected_action": [archivist.pk]},
    )
    client.logout()
    assert _logged_past_password(_password(client, archivist.username))


def test_the_owner_is_told_of_failed_attempts_at_the_next_log_in(client, make_user, settings):
    settings.DANGAN_REQUIRE_2FA = False
    user = make_user()
    for _ in range(3):
        _password(client, user.username, "wrong 1", address=OUTSIDER)
    _password(client, user.username, "wrong 1", address="198.51.100.2")
    answer = client.post(
        reverse("login"),
        {"username": user.username, "password": PASSWORD},
        REMOTE_ADDR=OFFICE,
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    page = answer.content.decode()
    assert "4 failed attempts" in page and f"{OUTSIDER} (3)" in page and "198.51.100.2 (1)" in page
    client.logout()
    again = client.post(
        reverse("login"),
        {"username": user.username, "password": PASSWORD},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "failed attempts" not in again.content.decode()  # told once


def _basic(username, password, address=OFFICE):
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return APIClient().get(
        "/api/v1/records/",
        HTTP_AUTHORIZATION=f"Basic {token}",
        REMOTE_ADDR=address,
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_basic_authentication_follows_the_same_rules(archivist, settings):
    settings.DANGAN_API_BASIC_USERS = [archivist.username]
    for _ in range(5):
        assert _basic(archivist.username, "guess", address=OUTSIDER).status_code == 401
    answer = _basic(archivist.username, PASSWORD)
    assert answer.status_code == 401 and "locked" in answer.json()["detail"]
    assert AuditEvent.objects.filter(after__locked=True, after__scope="account").exists()
    with _later(16):
        assert _basic(archivist.username, PASSWORD).status_code == 200


def test_the_portal_follows_the_same_rules(client, make_user):
    citizen = make_user(role=Role.CITIZEN, grants=())
    login = reverse("portal:portal-login")
    for _ in range(5):
        client.post(
            login, {"username": citizen.username, "password": "wrong 1"}, REMOTE_ADDR=OUTSIDER
        )
    answer = client.post(login, {"username": citizen.username, "password": PASSWORD})
    assert answer.status_code == 200 and "_auth_user_id" not in client.session
    with _later(16):
        answer = client.post(login, {"username": citizen.username, "password": PASSWORD})
        assert answer.status_code == 302 and "_auth_user_id" in client.session


def test_behind_a_trusted_proxy_the_lock_is_on_the_clients_address(client, settings):
    settings.DANGAN_TRUSTED_PROXIES = ["10.9.9.9"]
    settings.DANGAN_LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    for n in range(3):
        client.post(
            reverse("login"),
            {"username": f"guess{n}", "password": "x"},
            REMOTE_ADDR="10.9.9.9",
            HTTP_X_FORWARDED_FOR="203.0.113.50",
        )
    assert Lockout.objects.get(scope="address").key == "203.0.113.50"  # not the proxy's
