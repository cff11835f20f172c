"""The admin's own "Change password" page is audited: the change, and a wrong current password."""

import pytest
from django.urls import reverse

from dangan.accounts.models import Role
from dangan.audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW = "Qinghe-Archive-2026!"


def test_an_administrator_changing_their_own_password_is_audited(client, make_user):
    admin = make_user(role=Role.SYSTEM_ADMIN, grants=())
    client.force_login(admin)
    url = reverse("admin:password_change")
    assert client.get(url).status_code == 200
    answer = client.post(
        url, {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW}
    )
    assert answer.status_code == 302 and answer["Location"] == reverse("admin:password_change_done")
    admin.refresh_from_db()
    assert admin.check_password(NEW)
    event = AuditEvent.objects.get(action="update", actor=admin, object_id=str(admin.pk))
    assert event.after == {"password": "changed"} and event.detail == {"change": "own_password"}
    assert NEW not in str(event.after) + str(event.detail)
    assert client.get(reverse("admin:index")).status_code == 200  # still logged in


def test_a_wrong_current_password_is_refused_and_audited(client, make_user):
    admin = make_user(role=Role.SECURITY_ADMIN, grants=())
    client.force_login(admin)
    answer = client.post(
        reverse("admin:password_change"),
        {"old_password": "wrong", "new_password1": NEW, "new_password2": NEW},
    )
    assert answer.status_code == 200
    admin.refresh_from_db()
    assert admin.check_password(PASSWORD)
    failed = AuditEvent.objects.get(action="login_failed", actor=admin)
    assert failed.detail["step"] == "password change"
    assert not AuditEvent.objects.filter(action="update", actor=admin).exists()
