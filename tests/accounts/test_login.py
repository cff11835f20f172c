"""Log-in as a person does it: the password, then the authenticator app's code — set up with the
QR code at the first log-in; a locked account after repeated failures; sessions that end."""

import re
import time

import pytest
from django.urls import reverse

from dangan.accounts import twofactor
from dangan.accounts.models import Role, TwoFactorDevice
from dangan.audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _password(client, user, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": user.username, "password": password, **extra})


def _secret_on(page: str) -> str:
    return re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")


def test_first_log_in_sets_up_the_app_with_a_qr_code_then_logs_in(client, archivist):
    answer = _password(client, archivist, next="/people/")
    assert answer.status_code == 302 and answer["Location"] == reverse("login-enrol")
    assert "_auth_user_id" not in client.session  # not logged in after the password alone
    assert client.get("/catalogue/").status_code == 302

    page = client.get(reverse("login-enrol")).content.decode()
    assert "<svg" in page and 'class="segno"' in page  # the QR code, inline
    secret = _secret_on(page)
    assert client.post(reverse("login-enrol"), {"code": "000000"}).status_code == 200
    answer = client.post(reverse("login-enrol"), {"code": twofactor.current_code(secret)})
    assert answer.status_code == 302 and answer["Location"] == "/people/"
    assert client.get("/catalogue/").status_code == 200
    assert TwoFactorDevice.objects.get(user=archivist).confirmed
    assert AuditEvent.objects.filter(action="login", actor=archivist).exists()


def test_later_log_ins_ask_for_the_code_and_refuse_a_used_one(client, archivist):
    device = TwoFactorDevice.objects.create(
        user=archivist, secret=twofactor.new_secret(), confirmed=True
    )
    assert _password(client, archivist)["Location"] == reverse("login-verify")
    code = twofactor.current_code(device.secret)
    assert client.post(reverse("login-verify"), {"code": code}).status_code == 302
    client.post(reverse("logout"))
    _password(client, archivist)
    again = client.post(reverse("login-verify"), {"code": code})  # the same code, replayed
    assert again.status_code == 200 and "_auth_user_id" not in client.session
    failed = AuditEvent.objects.get(action="login_failed", actor=None)
    assert failed.object_id == str(archivist.pk) and failed.detail == {"step": "second factor"}


def test_the_enrolment_page_needs_the_password_first(client, archivist):
    assert client.get(reverse("login-enrol"))["Location"] == reverse("login")
    assert client.get(reverse("login-verify"))["Location"] == reverse("login")


def test_a_confirmed_device_is_never_shown_again(client, archivist):
    TwoFactorDevice.objects.create(user=archivist, secret=twofactor.new_secret(), confirmed=True)
    _password(client, archivist)
    assert client.get(reverse("login-enrol"))["Location"] == reverse("login-verify")


def test_without_the_setting_a_password_is_enough(client, archivist, settings):
    settings.DANGAN_REQUIRE_2FA = False
    assert _password(client, archivist)["Location"] == reverse("site:workbench")


def test_citizens_are_not_asked_for_a_second_factor(client, make_user):
    citizen = make_user(role=Role.CITIZEN, grants=())
    assert _password(client, citizen)["Location"] == reverse("site:workbench")


def test_basic_authentication_is_refused_to_staff_who_must_use_two_factors(archivist):
    import base64

    from rest_framework.test import APIClient

    good = base64.b64encode(f"{archivist.username}:{PASSWORD}".encode()).decode()
    answer = APIClient().get("/api/v1/records/", HTTP_AUTHORIZATION=f"Basic {good}")
    assert answer.status_code == 401


def test_an_idle_session_ends(client, archivist, settings):
    settings.DANGAN_IDLE_MINUTES = 30
    client.force_login(archivist)
    assert client.get("/catalogue/").status_code == 200
    session = client.session
    session["dangan_last_seen"] = time.time() - 31 * 60
    session.save()
    answer = client.get("/catalogue/")
    assert answer.status_code == 302 and answer["Location"].startswith("/login/")
    assert client.get("/catalogue/").status_code == 302  # logged out, not just redirected


def test_log_in_attempts_are_rate_limited_per_address(client, archivist, settings):
    from django.core.cache import cache

    cache.clear()
    settings.DANGAN_RATE_LIMITS = {"login": (3, 60), "search": (100, 60)}
    settings.DANGAN_LOGIN_MAX_FAILURES = 100
    codes = [_password(client, archivist, password=f"x{n}").status_code for n in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    cache.clear()
