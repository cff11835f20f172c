"""三员分立: the system administrator, the security administrator and the auditor cannot take
each other's powers or raise their own — through the services, the admin pages and the API."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from dangan.accounts import services
from dangan.accounts.models import Grant, Role, Secrecy, User
from dangan.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def admins(make_user):
    return {
        "system": make_user(role=Role.SYSTEM_ADMIN, grants=()),
        "security": make_user(role=Role.SECURITY_ADMIN, grants=()),
        "auditor": make_user(role=Role.AUDITOR, grants=()),
    }


def test_only_the_three_administrators_are_staff_and_nobody_is_superuser(admins, archivist):
    assert all(a.is_staff and not a.is_superuser for a in admins.values())
    assert not archivist.is_staff
    with pytest.raises(ValidationError):
        services.create_user(actor=None, username="root", password="x", is_superuser=True)


def test_the_system_administrator_creates_accounts_but_gives_no_rights(admins):
    system = admins["system"]
    clerk = services.create_user(actor=system, username="clerk", password="x")
    assert not clerk.grants.exists()
    with pytest.raises(PermissionDenied):
        services.create_user(
            actor=system, username="c2", password="x", grants=[{"max_secrecy": Secrecy.SECRET}]
        )
    with pytest.raises(PermissionDenied):
        services.create_user(actor=system, username="a2", password="x", role=Role.AUDITOR)
    with pytest.raises(PermissionDenied):
        services.set_role(actor=system, user=clerk, role=Role.LEADER)
    with pytest.raises(PermissionDenied):
        services.set_grants(actor=system, user=clerk, grants=[{"max_secrecy": 1}])
    with pytest.raises(PermissionDenied):
        services.set_role(actor=system, user=system, role=Role.SECURITY_ADMIN)


def test_the_security_administrator_gives_rights_to_others_never_to_themselves(admins, make_user):
    security = admins["security"]
    clerk = make_user(role=Role.READING_CLERK, grants=())
    services.set_grants(actor=security, user=clerk, grants=[{"max_secrecy": Secrecy.INTERNAL}])
    services.set_role(actor=security, user=clerk, role=Role.ARCHIVIST)
    assert clerk.grants.count() == 1 and clerk.role == Role.ARCHIVIST
    for change in (
        lambda: services.set_role(actor=security, user=security, role=Role.SYSTEM_ADMIN),
        lambda: services.set_grants(actor=security, user=security, grants=[{"max_secrecy": 4}]),
        lambda: services.unlock_account(actor=security, user=security),
        lambda: services.create_user(actor=security, username="friend", password="x"),
        lambda: services.update_account(actor=security, user=clerk, first_name="x"),
    ):
        with pytest.raises(PermissionDenied):
            change()
    security.refresh_from_db()
    assert security.role == Role.SECURITY_ADMIN and not security.grants.exists()


def test_the_auditor_changes_nothing(admins, archivist):
    auditor = admins["auditor"]
    for change in (
        lambda: services.create_user(actor=auditor, username="x", password="x"),
        lambda: services.set_role(actor=auditor, user=archivist, role=Role.LEADER),
        lambda: services.set_grants(actor=auditor, user=auditor, grants=[{"max_secrecy": 4}]),
        lambda: services.update_account(actor=auditor, user=archivist, is_active=False),
    ):
        with pytest.raises(PermissionDenied):
            change()


def test_the_system_administrator_cannot_switch_off_the_auditor(admins):
    with pytest.raises(PermissionDenied):
        services.update_account(actor=admins["system"], user=admins["auditor"], is_active=False)
    services.update_account(actor=admins["security"], user=admins["auditor"], first_name="郑")


def test_administrators_hold_no_grants(admins):
    with pytest.raises(ValidationError):
        services.set_grants(
            actor=admins["security"], user=admins["system"], grants=[{"max_secrecy": 4}]
        )


def test_changes_of_rights_are_audited(admins, make_user):
    clerk = make_user(role=Role.READING_CLERK, grants=())
    services.set_role(actor=admins["security"], user=clerk, role=Role.LEADER)
    event = AuditEvent.objects.filter(object_id=str(clerk.pk), action="update").latest("id")
    assert event.actor == admins["security"]
    assert event.before == {"role": "reading_clerk"} and event.after == {"role": "leader"}


# --- the admin pages --------------------------------------------------------------------------


def _as(client, user):
    client.force_login(user)
    return client


def test_each_administrator_sees_only_their_part_of_the_admin(client, admins):
    pages = {
        "system": {"admin:accounts_unit_changelist", "admin:catalogue_category_changelist"},
        "security": {"admin:accounts_user_changelist", "admin:accounts_lockout_changelist"},
        "auditor": {"admin:audit_auditevent_changelist"},
    }
    every = set().union(*pages.values())
    for name, user in admins.items():
        _as(client, user)
        allowed = pages[name] | ({"admin:accounts_user_changelist"} if name == "system" else set())
        for page in every:
            status = client.get(reverse(page)).status_code
            assert status == (200 if page in allowed else 403), (name, page, status)


def test_nobody_edits_their_own_account_in_the_admin(client, admins):
    for user in admins.values():
        _as(client, user)
        url = reverse("admin:accounts_user_change", args=[user.pk])
        response = client.post(url, {"username": user.username, "role": Role.SYSTEM_ADMIN})
        assert response.status_code in (302, 403)
        user.refresh_from_db()
        assert response.status_code == 403 or user.role != Role.SYSTEM_ADMIN
    security = admins["security"]
    _as(client, security)
    client.post(
        reverse("admin:accounts_user_change", args=[security.pk]),
        {"role": Role.SYSTEM_ADMIN, "is_active": "on"},
    )
    security.refresh_from_db()
    assert security.role == Role.SECURITY_ADMIN


def test_the_security_administrator_gives_a_role_in_the_admin(client, admins, make_user):
    clerk = make_user(role=Role.READING_CLERK, grants=())
    _as(client, admins["security"])
    url = reverse("admin:accounts_user_change", args=[clerk.pk])
    page = client.get(url).content.decode()
    assert 'name="role"' in page and 'name="password"' not in page and "is_superuser" not in page
    data = {
        "role": Role.AUDITOR,
        "grants-TOTAL_FORMS": 0,
        "grants-INITIAL_FORMS": 0,
        "grants-MIN_NUM_FORMS": 0,
        "grants-MAX_NUM_FORMS": 1000,
    }
    assert client.post(url, data).status_code == 302
    clerk.refresh_from_db()
    assert clerk.role == Role.AUDITOR and clerk.is_staff and not clerk.is_superuser


def test_the_system_administrator_cannot_give_a_role_in_the_admin(client, admins, make_user):
    clerk = make_user(role=Role.READING_CLERK, grants=())
    _as(client, admins["system"])
    url = reverse("admin:accounts_user_change", args=[clerk.pk])
    page = client.get(url).content.decode()
    assert 'name="role"' not in page and "grants-TOTAL_FORMS" not in page
    client.post(url, {"username": clerk.username, "role": Role.SECURITY_ADMIN, "is_active": "on"})
    clerk.refresh_from_db()
    assert clerk.role == Role.READING_CLERK and not Grant.objects.filter(user=clerk).exists()
    # nor change the password of the other administrators
    other = reverse("admin:auth_user_password_change", args=[admins["auditor"].pk])
    assert client.get(other).status_code in (403, 404)


def test_the_admin_log_in_page_is_dangans_two_step_log_in(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_three_administrators_read_no_records_through_the_api(client, admins, make_record):
    record = make_record()
    for user in admins.values():
        _as(client, user)
        assert client.get("/api/v1/records/").json()["count"] == 0
        assert client.get(f"/api/v1/records/{record.pk}/").status_code == 404
        answer = client.post(
            "/api/v1/records/", {"title": "x"}, content_type="application/json"
        ).status_code
        assert answer in (400, 403)
    assert User.objects.filter(is_superuser=True).count() == 0
