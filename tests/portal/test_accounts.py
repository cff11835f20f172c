"""Local citizen accounts: sign-up, log-in by user name or phone, lock-out and rate limits;
binding at the counter."""

import time

import pytest
from django.urls import reverse

from dangan.accounts.models import Role, Secrecy
from dangan.audit.models import AuditEvent
from dangan.people.id_numbers import mask
from dangan.portal.models import CitizenProfile
from tests.conftest import PASSWORD

from .conftest import LI

pytestmark = pytest.mark.django_db
GOOD = "Pension-2024!Hz"


def _sign_up(client, **values):
    data = {
        "username": "lixiuying",
        "name": "李秀英",
        "phone": "138 0013 8000",
        "password": GOOD,
        "password2": GOOD,
        **values,
    }
    return client.post("/portal/signup/", data)


def test_sign_up_makes_an_unbound_citizen_and_logs_her_in(client, archive):
    answer = _sign_up(client)
    assert answer.status_code == 302
    profile = CitizenProfile.objects.get(user__username="lixiuying")
    assert profile.user.role == Role.CITIZEN and profile.phone == "13800138000"
    assert not profile.is_bound
    page = client.get("/portal/my/").content.decode()
    assert archive["li_file"].archival_code not in page
    assert "ID card" in page or "身份证" in page


@pytest.mark.parametrize("password", ["woaini1314", "lixiuying1958", "short1A!"])
def test_sign_up_keeps_the_password_policy(client, db, password):
    answer = _sign_up(client, password=password, password2=password)
    assert answer.status_code == 200
    assert not CitizenProfile.objects.exists()


def test_a_phone_number_signs_up_once(client, db):
    _sign_up(client)
    client.post("/portal/logout/")
    answer = _sign_up(client, username="another")
    assert answer.status_code == 200
    assert CitizenProfile.objects.count() == 1


def test_log_in_by_user_name_or_phone(client, make_user, db):
    user = make_user(role=Role.CITIZEN, grants=())
    CitizenProfile.objects.create(user=user, phone="13900139000")
    for name in (user.username, "139-0013-9000"):
        client.post("/portal/logout/")
        answer = client.post("/portal/login/", {"username": name, "password": PASSWORD})
        assert answer.status_code == 302, name
        assert answer["Location"] == "/portal/my/"


def test_staff_cannot_log_in_at_the_portal(client, archivist):
    """Staff have a second factor; the portal's one-factor log-in must not open for them."""
    answer = client.post("/portal/login/", {"username": archivist.username, "password": PASSWORD})
    assert answer.status_code == 200
    assert "_auth_user_id" not in client.session


def test_wrong_passwords_lock_the_account(client, make_citizen, settings):
    settings.DANGAN_LOGIN_MAX_FAILURES = 3
    user = make_citizen()
    for _ in range(3):
        client.post("/portal/login/", {"username": user.username, "password": "wrong"})
    answer = client.post("/portal/login/", {"username": user.username, "password": PASSWORD})
    assert answer.status_code == 200 and "_auth_user_id" not in client.session


def test_log_in_is_rate_limited_per_address(client, make_citizen, settings):
    settings.DANGAN_PORTAL_RATE_LIMITS = {**settings.DANGAN_PORTAL_RATE_LIMITS, "login": (2, 60)}
    user = make_citizen()
    statuses = [
        client.post("/portal/login/", {"username": user.username, "password": "x"}).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_public_search_is_rate_limited_per_address(client, archive, settings):
    settings.DANGAN_PORTAL_RATE_LIMITS = {**settings.DANGAN_PORTAL_RATE_LIMITS, "search": (2, 60)}
    statuses = [client.get("/portal/search/?q=退休").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_the_counter_binds_after_checking_the_card(client, make_user, make_citizen, archive):
    clerk = make_user(role=Role.READING_CLERK, grants=[{"max_secrecy": Secrecy.INTERNAL}])
    citizen = make_citizen()
    CitizenProfile.objects.filter(user=citizen).update(phone="13700137000")
    client.force_login(clerk)
    data = {
        "action": "bind",
        "account": "13700137000",
        "id_number": LI["id_number"],
        "card_checked": "on",
    }
    answer = client.post("/portal/counter/bind/", data)
    assert answer.status_code == 302
    profile = CitizenProfile.objects.get(user=citizen)
    assert profile.id_number == LI["id_number"] and profile.bound_by == clerk
    event = AuditEvent.objects.filter(actor=clerk, object_id=str(citizen.pk)).latest("id")
    assert event.after["id_number"] == mask(LI["id_number"])
    assert LI["id_number"] not in str(event.after)
    client.force_login(citizen)
    assert archive["li_file"].archival_code in client.get("/portal/my/").content.decode()


def test_the_counter_needs_the_card_checked_and_a_valid_number(client, make_user, make_citizen):
    clerk = make_user(role=Role.READING_CLERK)
    citizen = make_citizen()
    client.force_login(clerk)
    client.post(
        "/portal/counter/bind/",
        {"action": "bind", "account": citizen.username, "id_number": LI["id_number"]},
    )
    bad = LI["id_number"][:-1] + ("0" if LI["id_number"][-1] != "0" else "1")
    client.post(
        "/portal/counter/bind/",
        {"action": "bind", "account": citizen.username, "id_number": bad, "card_checked": "on"},
    )
    assert not CitizenProfile.objects.get(user=citizen).is_bound


def test_one_number_binds_one_account(client, make_user, make_citizen):
    clerk = make_user(role=Role.ARCHIVIST)
    make_citizen(person=LI)
    other = make_citizen()
    client.force_login(clerk)
    client.post(
        "/portal/counter/bind/",
        {
            "action": "bind",
            "account": other.username,
            "id_number": LI["id_number"],
            "card_checked": "on",
        },
    )
    assert not CitizenProfile.objects.get(user=other).is_bound


@pytest.mark.parametrize("role", [Role.UNIT_CLERK, Role.LEADER, Role.CITIZEN, Role.SECURITY_ADMIN])
def test_only_the_counter_binds(client, make_user, make_citizen, role):
    citizen = make_citizen()
    client.force_login(make_user(role=role, grants=()))
    answer = client.post(
        "/portal/counter/bind/",
        {
            "action": "bind",
            "account": citizen.username,
            "id_number": LI["id_number"],
            "card_checked": "on",
        },
    )
    assert answer.status_code == 403
    assert not CitizenProfile.objects.get(user=citizen).is_bound


def test_the_counter_undoes_a_mistaken_binding_with_a_reason(client, make_user, make_citizen):
    clerk = make_user(role=Role.READING_CLERK)
    citizen = make_citizen(person=LI)
    client.force_login(clerk)
    data = {"action": "unbind", "unbind-account": citizen.username, "unbind-reason": ""}
    client.post("/portal/counter/bind/", data)
    assert CitizenProfile.objects.get(user=citizen).is_bound  # no reason, no change
    client.post("/portal/counter/bind/", {**data, "unbind-reason": "绑错了账号"})
    assert not CitizenProfile.objects.get(user=citizen).is_bound
    event = AuditEvent.objects.filter(actor=clerk, object_id=str(citizen.pk)).latest("id")
    assert event.before["id_number"] == mask(LI["id_number"])
    assert event.detail["reason"] == "绑错了账号"


def test_a_visitor_is_sent_to_the_portal_log_in_and_back(client, make_citizen):
    answer = client.get("/portal/my/requests/")
    assert answer.status_code == 302
    assert answer["Location"] == "/portal/login/?next=/portal/my/requests/"
    citizen = make_citizen()
    answer = client.post(
        "/portal/login/?next=/portal/my/requests/",
        {"username": citizen.username, "password": PASSWORD, "next": "/portal/my/requests/"},
    )
    assert answer["Location"] == "/portal/my/requests/"


def test_log_in_never_sends_her_to_another_site(client, make_citizen):
    citizen = make_citizen()
    answer = client.post(
        "/portal/login/",
        {"username": citizen.username, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert answer["Location"] == "/portal/my/"


def test_a_citizen_whose_session_ends_logs_in_again_on_the_portal(client, make_citizen, settings):
    settings.DANGAN_IDLE_MINUTES = 30
    client.force_login(make_citizen(person=LI))
    assert client.get(reverse("portal:my-records")).status_code == 200
    session = client.session
    session["dangan_last_seen"] = time.time() - 31 * 60
    session.save()

    answer = client.get(reverse("portal:my-records"))

    assert answer.status_code == 302
    assert answer["Location"].startswith(reverse("portal:portal-login") + "?next=")
