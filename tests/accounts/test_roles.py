"""Roles as data (issue #30): the system administrator defines the county's roles from the same
permissions the pages, the menu and the API check; the three administrators' roles and the
separation of duties hold against every edit — the services, the admin's pages — each refusal
with its reason."""

import importlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from dangan.accounts import services
from dangan.accounts.models import ApprovalFlow, Role, RoleDefinition, Secrecy, User
from dangan.alerts.models import SecurityAlert
from dangan.audit.models import AuditEvent
from dangan.menu import items_for
from dangan.security.permissions import (
    ADMIN_ONLY,
    DEFAULT_ROLES,
    FIXED_ROLES,
    PERMISSIONS,
    READING,
    has_permission,
)

pytestmark = pytest.mark.django_db

KEEPER = ["records.read", "stacks.keep", "workbench"]


@pytest.fixture
def sysadmin(make_user):
    return make_user(role=Role.SYSTEM_ADMIN, grants=())


@pytest.fixture
def secadmin(make_user):
    return make_user(role=Role.SECURITY_ADMIN, grants=())


@pytest.fixture
def keeper_role(sysadmin):
    """A county's own role: reads records and keeps the stacks, files nothing."""
    return services.define_role(
        actor=sysadmin, code="keeper", name="库房保管员", permissions=KEEPER
    )


def test_todays_roles_are_loaded_by_the_migration_as_they_were():
    migration = importlib.import_module("dangan.accounts.migrations.0008_roles_as_data")
    assert {c: frozenset(p) for c, p in migration.TODAYS_ROLES.items()} == DEFAULT_ROLES


def test_an_existing_countys_users_keep_what_they_could_do(make_user):
    archivist, leader, clerk = (
        make_user(role=Role.ARCHIVIST),
        make_user(role=Role.LEADER),
        make_user(role=Role.READING_CLERK),
    )
    assert archivist.may_edit_records and archivist.may_read_records
    assert leader.may_read_records and not leader.may_edit_records
    assert has_permission(leader, "appraisal.approve")
    assert not has_permission(archivist, "appraisal.approve")
    assert has_permission(clerk, "access.serve") and not has_permission(clerk, "access.approve")


def test_no_administrator_reads_records_and_each_holds_one_duty_alone():
    for role in (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR, Role.CITIZEN):
        assert not FIXED_ROLES[role] & READING, role
    duties = [FIXED_ROLES[r] & ADMIN_ONLY for r in (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN)]
    duties.append(FIXED_ROLES[Role.AUDITOR] & ADMIN_ONLY)
    assert all(duties) and not (duties[0] & duties[1] or duties[0] & duties[2])
    assert not duties[1] & duties[2]
    assert all(not codes & ADMIN_ONLY for codes in DEFAULT_ROLES.values())


def test_a_county_role_gives_its_holder_exactly_its_permissions(keeper_role, secadmin, make_user):
    user = make_user(role=Role.READING_CLERK)
    services.set_role(actor=secadmin, user=user, role="keeper")
    user = User.objects.get(pk=user.pk)
    assert {c for c in PERMISSIONS if has_permission(user, c)} == set(KEEPER)
    assert [i.url_name for i in items_for(user)] == [
        "site:workbench",
        "catalogue:record-list",
        "people:person-search",
        "stacks:room-list",
    ]
    assert user.get_role_display() == "库房保管员"


def test_the_api_agrees_with_the_role(keeper_role, secadmin, make_user, make_record, fonds):
    make_record()
    user = make_user(role=Role.READING_CLERK)
    services.set_role(actor=secadmin, user=user, role="keeper")
    client = APIClient()
    client.force_login(user)
    assert client.get("/api/v1/records/").json()["count"] == 1
    refused = client.post(
        "/api/v1/records/",
        {"fonds": fonds.code, "category": "SYTG", "title": "新档案", "year": 2001},
        format="json",
    )
    assert refused.status_code == 403
    services.define_role(
        actor=None, code="keeper", permissions=["stacks.keep", "workbench"], name="库房保管员"
    )
    assert client.get("/api/v1/records/").json()["count"] == 0  # no longer reads records


def test_role_changes_are_audited_and_raise_a_security_alert(keeper_role, sysadmin):
    services.define_role(actor=sysadmin, code="keeper", permissions=["records.read"])
    events = AuditEvent.objects.filter(object_type="accounts.roledefinition")
    assert events.count() == 2
    assert events.order_by("-id").first().after["permissions"] == ["records.read"]
    alert = SecurityAlert.objects.filter(kind=SecurityAlert.Kind.SECURITY_CHANGE).latest("at")
    assert "keeper" in alert.summary and alert.who == sysadmin


@pytest.mark.parametrize("duty", sorted(ADMIN_ONLY))
def test_no_county_role_carries_an_administrators_duty(sysadmin, keeper_role, duty):
    for code in ("keeper", "newrole", Role.ARCHIVIST):
        with pytest.raises(ValidationError) as refused:
            services.define_role(actor=sysadmin, code=code, permissions=["records.read", duty])
        assert refused.value.code == "admin_duty"
        assert str(PERMISSIONS[duty].label) in refused.value.messages[0]
    assert RoleDefinition.objects.get(code="keeper").permissions == sorted(
        KEEPER, key=list(PERMISSIONS).index
    )


@pytest.mark.parametrize("fixed", sorted(FIXED_ROLES))
def test_the_fixed_roles_cannot_be_redefined(sysadmin, fixed):
    with pytest.raises(ValidationError) as refused:
        services.define_role(actor=sysadmin, code=fixed, permissions=["records.read"])
    assert refused.value.code == "fixed_role"
    with pytest.raises(ValidationError):
        services.remove_role(actor=sysadmin, code=fixed)


def test_only_the_system_administrator_defines_roles(make_user, secadmin, archivist):
    auditor = make_user(role=Role.AUDITOR, grants=())
    for actor in (secadmin, auditor, archivist):
        with pytest.raises(PermissionDenied):
            services.define_role(actor=actor, code="x", permissions=["records.read"])
    assert not RoleDefinition.objects.filter(code="x").exists()


def test_an_unknown_role_is_never_given(secadmin, make_user):
    user = make_user()
    with pytest.raises(ValidationError) as refused:
        services.set_role(actor=secadmin, user=user, role="superuser")
    assert refused.value.code == "unknown_role"
    with pytest.raises(ValidationError):
        services.create_user(actor=None, username="x", password="x", role="nobody")
    assert User.objects.get(pk=user.pk).role == Role.ARCHIVIST


def test_an_administrator_given_a_business_role_is_no_longer_one(keeper_role, secadmin, make_user):
    """One role a person: an administrator never keeps a duty beside a county role."""
    auditor = make_user(role=Role.AUDITOR, grants=())
    services.set_role(actor=secadmin, user=auditor, role="keeper")
    auditor = User.objects.get(pk=auditor.pk)
    assert not auditor.is_staff and not has_permission(auditor, "audit.trail")
    clerk = make_user(role="keeper")
    services.set_role(actor=secadmin, user=clerk, role=Role.AUDITOR)
    clerk = User.objects.get(pk=clerk.pk)
    assert not clerk.grants.exists() and not clerk.may_read_records


def test_a_role_still_assigned_is_not_removed(keeper_role, sysadmin, secadmin, make_user):
    holder = make_user(role="keeper")
    with pytest.raises(ValidationError) as refused:
        services.remove_role(actor=sysadmin, code="keeper")
    assert refused.value.code == "role_assigned" and "1" in refused.value.messages[0]
    services.set_role(actor=secadmin, user=holder, role=Role.ARCHIVIST)
    services.remove_role(actor=sysadmin, code="keeper")
    assert not RoleDefinition.objects.filter(code="keeper").exists()
    assert AuditEvent.objects.filter(
        object_type="accounts.roledefinition", action=AuditEvent.Action.DELETE
    ).exists()


def test_todays_roles_stay(sysadmin):
    with pytest.raises(ValidationError) as refused:
        services.remove_role(actor=sysadmin, code=Role.LEADER)
    assert refused.value.code == "default_role"


def test_a_role_taking_an_approval_step_keeps_reading_and_stays(keeper_role, sysadmin):
    services.set_approval_flow(
        actor=sysadmin, kind=ApprovalFlow.Kind.COPY_REQUEST, roles=["keeper", Role.LEADER]
    )
    with pytest.raises(ValidationError) as refused:
        services.define_role(actor=sysadmin, code="keeper", permissions=["stacks.keep"])
    assert refused.value.code == "approver_reads"
    with pytest.raises(ValidationError) as refused:
        services.remove_role(actor=sysadmin, code="keeper")
    assert refused.value.code == "role_in_approval"


def test_a_role_that_reads_no_records_takes_no_approval_step(sysadmin):
    services.define_role(actor=sysadmin, code="porter", permissions=["workbench"])
    with pytest.raises(ValidationError) as refused:
        services.set_approval_flow(
            actor=sysadmin, kind=ApprovalFlow.Kind.COPY_REQUEST, roles=["porter"]
        )
    assert refused.value.code == "not_approving_role"


# --- the admin's pages: the same rules, the reason shown -----------------------------------------


def test_the_role_form_offers_no_duty_and_refuses_one_posted(client, sysadmin):
    client.force_login(sysadmin)
    add = reverse("admin:accounts_roledefinition_add")
    page = client.get(add).content.decode()
    assert 'value="stacks.keep"' in page
    assert all(f'value="{duty}"' not in page for duty in ADMIN_ONLY)
    answer = client.post(
        add, {"code": "spy", "name": "x", "permissions": ["records.read", "audit.trail"]}
    )
    assert answer.status_code == 200  # the form again, with the reason
    assert not RoleDefinition.objects.filter(code="spy").exists()
    answer = client.post(add, {"code": "keeper", "name": "库房", "permissions": KEEPER})
    assert answer.status_code == 302
    assert RoleDefinition.objects.get(code="keeper").permissions == sorted(
        KEEPER, key=list(PERMISSIONS).index
    )


def test_the_admin_refuses_to_delete_a_role_still_assigned(
    client, sysadmin, keeper_role, make_user
):
    make_user(role="keeper")
    client.force_login(sysadmin)
    url = reverse("admin:accounts_roledefinition_delete", args=[keeper_role.pk])
    answer = client.post(url, {"post": "yes"}, follow=True)
    assert RoleDefinition.objects.filter(code="keeper").exists()
    assert "give them another role first" in answer.content.decode() or any(
        "1" in str(m) for m in answer.context["messages"]
    )


def test_the_security_administrator_gives_a_county_role_in_the_user_admin(
    client, secadmin, keeper_role, make_user
):
    user = make_user(role=Role.READING_CLERK)
    client.force_login(secadmin)
    url = reverse("admin:accounts_user_change", args=[user.pk])
    page = client.get(url).content.decode()
    assert 'value="keeper"' in page and "库房保管员" in page
    answer = client.post(url, {"role": "keeper", "is_active": "on", **_no_grants()})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert User.objects.get(pk=user.pk).role == "keeper"


def test_the_security_administrator_cannot_define_roles_in_the_admin(client, secadmin):
    client.force_login(secadmin)
    answer = client.post(
        reverse("admin:accounts_roledefinition_add"),
        {"code": "x", "permissions": ["records.read"]},
    )
    assert answer.status_code == 403
    assert not RoleDefinition.objects.filter(code="x").exists()


def _no_grants():
    prefix = "grants"
    return {
        f"{prefix}-TOTAL_FORMS": "0",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_grants_scope_a_county_role(keeper_role, make_user, make_record, tx_category):
    """The role says what the holder may do; the grants (fonds, category, unit, secrecy) say
    where: a keeper granted one category reads only that category's records."""
    make_record()
    mine = make_record(category=tx_category)
    user = make_user(
        role="keeper", grants=[{"category": tx_category, "max_secrecy": Secrecy.INTERNAL}]
    )
    from dangan.catalogue.selectors import visible_records

    assert list(visible_records(user)) == [mine]


@pytest.fixture
def tx_category(db):
    from dangan.catalogue.models import Category

    return Category.objects.get(code="TX")
