"""Writing accounts and rights, audited, under the separation of duties (see ``duties``).

``actor=None`` is the installation itself (migrations, ``dangan run``, the demo, tests): it is
not a person and is not checked.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.security.duties import Duty, check_account_change, check_duty, check_rights_change
from dangan.security.permissions import (
    DEFAULT_ROLES,
    FIXED_ROLES,
    PERMISSIONS,
    check_role_permissions,
)

from . import lockout, twofactor
from .models import (
    ADMIN_ROLES,
    ApprovalFlow,
    Grant,
    Role,
    RoleDefinition,
    Secrecy,
    TwoFactorDevice,
    Unit,
    User,
)
from .selectors import business_roles, role_label
from .signals import rights_changed, role_changed

#: What a system administrator may set on an account (never role, grants, staff or superuser).
ACCOUNT_FIELDS = {"first_name", "last_name", "email", "unit", "is_active"}


def _grant_summary(grants) -> list[dict]:
    return [
        {
            "fonds": getattr(g.get("fonds"), "code", None),
            "category": getattr(g.get("category"), "code", None),
            "unit": getattr(g.get("unit"), "code", None),
            "max_secrecy": int(g.get("max_secrecy", Secrecy.INTERNAL)),
        }
        for g in grants
    ]


def create_user(
    *,
    actor,
    username,
    password,
    role=Role.ARCHIVIST,
    unit=None,
    grants=(),
    is_staff=None,
    is_superuser=False,
    **extra,
) -> User:
    """A user with their grants (dicts of Grant fields) in one audited step.

    A system administrator creates accounts with a role but no grants: giving rights is the
    security administrator's duty. Only the three administrators use the admin (``is_staff``).
    """
    if is_superuser:
        raise ValidationError(
            _("Dangan has no superuser: give the account one of the roles."), code="superuser"
        )
    check_known_role(role)
    if actor is not None:
        check_duty(actor, Duty.ACCOUNTS)
        if grants or role in ADMIN_ROLES:
            check_duty(actor, Duty.RIGHTS)  # never both: the system administrator stops here
    with transaction.atomic():
        user = User(
            username=username,
            role=role,
            unit=unit,
            is_staff=role in ADMIN_ROLES if is_staff is None else is_staff,
            **extra,
        )
        user.set_password(password)
        user.save()
        for grant in grants:
            Grant.objects.create(user=user, **grant)
        record_event(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=user,
            after={"username": username, "role": role, "grants": _grant_summary(grants)},
        )
    return user


def update_account(*, actor, user: User, **values) -> User:
    """Change the plain facts of an account (name, e-mail, unit, active) — not its rights."""
    unknown = set(values) - ACCOUNT_FIELDS
    if unknown:
        raise ValidationError(
            _("These are not account fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))},
            code="not_account_field",
        )
    check_account_change(actor, user)
    with transaction.atomic():
        before = {k: getattr(user, k) for k in values}
        for key, value in values.items():
            setattr(user, key, value)
        user.save(update_fields=list(values))
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=user,
            before={k: getattr(v, "pk", v) for k, v in before.items()},
            after={k: getattr(v, "pk", v) for k, v in values.items()},
        )
    return user


def set_password(*, actor, user: User, password: str) -> None:
    """A new password for someone else (the system administrator's duty), checked by policy."""
    from django.contrib.auth.password_validation import validate_password

    check_account_change(actor, user)
    validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=user,
            after={"password": "changed"},
        )


def change_own_password(*, user: User, password: str) -> None:
    """A user's new password chosen by themselves (the admin's "Change password" page), after
    the page has checked the current one and the policy. Audited like any account change."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        record_event(
            actor=user,
            action=AuditEvent.Action.UPDATE,
            obj=user,
            after={"password": "changed"},
            detail={"change": "own_password"},
        )


def refuse_own_password_change(*, user: User) -> None:
    """A wrong current password on the change page: audited (someone else at the keyboard)."""
    record_event(
        actor=user,
        action=AuditEvent.Action.LOGIN_FAILED,
        obj=user,
        detail={"step": "password change", "reason": "wrong current password"},
    )


def set_role(*, actor, user: User, role: str) -> User:
    """Give ``user`` a role; only the three administrators are staff (use the admin)."""
    if actor is not None:
        check_rights_change(actor, user)
    check_known_role(role)
    with transaction.atomic():
        before = user.role
        if role in ADMIN_ROLES:
            user.grants.all().delete()  # the three administrators read no records
        user.role = role
        user.is_staff = role in ADMIN_ROLES
        user.is_superuser = False
        user.save(update_fields=["role", "is_staff", "is_superuser"])
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=user,
            before={"role": before},
            after={"role": role},
        )
        if before != role:
            rights_changed.send(
                sender=User, actor=actor, user=user, before={"role": before}, after={"role": role}
            )
    return user


def set_grants(*, actor, user: User, grants) -> list[Grant]:
    """Replace ``user``'s grants with ``grants`` (dicts of Grant fields)."""
    if actor is not None:
        check_rights_change(actor, user)
    if grants and user.role in ADMIN_ROLES:
        raise ValidationError(
            _("The three administrators read no records and hold no grants."), code="admin_grant"
        )
    with transaction.atomic():
        old = list(user.grants.values("fonds__code", "category__code", "unit__code", "max_secrecy"))
        user.grants.all().delete()
        rows = [Grant.objects.create(user=user, **grant) for grant in grants]
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=user,
            before={"grants": old},
            after={"grants": _grant_summary(grants)},
        )
        rights_changed.send(
            sender=User,
            actor=actor,
            user=user,
            before={"grants": old},
            after={"grants": _grant_summary(grants)},
        )
    return rows


# --- log-in: failures, lock-out and the second factor ---------------------------------------


def unlock_account(*, actor, user: User) -> None:
    """Lift the locks in force on ``user``'s account (the security administrator's duty, never
    their own); see ``lockout``."""
    if actor is not None:
        check_rights_change(actor, user)
    lockout.lift_account(actor=actor, username=user.username)


def two_factor_required(user) -> bool:
    """Staff log in with a second factor (``DANGAN_REQUIRE_2FA``, on by default)."""
    return settings.DANGAN_REQUIRE_2FA and user.role != Role.CITIZEN


def start_enrolment(*, user: User) -> TwoFactorDevice:
    """The user's unconfirmed device with a fresh secret (a confirmed one is never replaced)."""
    device, created = TwoFactorDevice.objects.get_or_create(
        user=user, defaults={"secret": twofactor.new_secret()}
    )
    if device.confirmed:
        raise ValidationError(_("Two-factor log-in is already set up."), code="enrolled")
    return device


def verify_second_factor(*, user: User, code: str, enrolling: bool = False) -> bool:
    """Whether ``code`` is the user's current one-time code; a used code never counts twice.
    At enrolment a right code confirms the device."""
    with transaction.atomic():
        device = TwoFactorDevice.objects.select_for_update().filter(user=user).first()
        if device is None or device.confirmed == enrolling:
            return False
        counter = twofactor.match(device.secret, code, after_counter=device.last_counter)
        if counter is None:
            return False
        device.last_counter = counter
        device.confirmed = True
        device.save(update_fields=["last_counter", "confirmed"])
        if enrolling:
            record_event(
                actor=user, action=AuditEvent.Action.UPDATE, obj=user, after={"two_factor": True}
            )
    return True


def reset_second_factor(*, actor, user: User) -> None:
    """A lost phone: the security administrator removes the device; the user enrols anew."""
    if actor is not None:
        check_rights_change(actor, user)
    with transaction.atomic():
        TwoFactorDevice.objects.filter(user=user).delete()
        record_event(
            actor=actor, action=AuditEvent.Action.UPDATE, obj=user, after={"two_factor": False}
        )


# --- the demo --------------------------------------------------------------------------------


def ensure_demo_admin(password_file) -> tuple[str, str]:
    """The demo's log-in, an archivist with rights on everything; (username, password).

    Not a superuser and not staff: the three administrators (``dangan demo`` creates sysadmin,
    secadmin and auditor) keep the administration. The password is made up once per
    installation and kept in ``password_file`` (mode 600).
    """
    if password_file.exists():
        password = password_file.read_text().strip()
    else:
        password = get_random_string(16)
        password_file.write_text(password)
        password_file.chmod(0o600)
    user = User.objects.filter(username="admin").first()
    if user is None:
        create_user(
            actor=None,
            username="admin",
            password=password,
            role=Role.ARCHIVIST,
            unit=Unit.objects.filter(kind=Unit.Kind.BUREAU).first(),
            grants=[{"max_secrecy": Secrecy.CONFIDENTIAL}],
            first_name="演示管理员",
        )
    else:
        if not user.check_password(password):
            user.set_password(password)
        user.is_superuser = user.is_staff = False
        user.save(update_fields=["password", "is_superuser", "is_staff"])
    return "admin", password


# --- approval steps ------------------------------------------------------------------------------


def approval_steps(kind: str) -> list[str] | None:
    """The roles that approve ``kind``, in order; None when the county kept the default."""
    flow = ApprovalFlow.objects.filter(kind=kind).first()
    return list(flow.roles) if flow and flow.roles else None


def set_approval_flow(*, actor, kind: str, roles: list[str]) -> ApprovalFlow:
    """Set the approval steps of ``kind`` (configuration: the system administrator's duty).
    Each step is a business role; the three administrators and citizens approve nothing."""
    if actor is not None:
        check_duty(actor, Duty.CONFIGURE)
    roles = [r for r in roles if r]
    check_approval_roles(roles)
    with transaction.atomic():
        flow, _created = ApprovalFlow.objects.get_or_create(kind=kind)
        before = list(flow.roles)
        flow.roles = roles
        flow.save(update_fields=["roles"])
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=flow,
            before={"roles": before},
            after={"roles": roles},
        )
    return flow


def reset_approval_flow(*, actor, kind: str) -> None:
    """Back to today's single step for ``kind``."""
    if actor is not None:
        check_duty(actor, Duty.CONFIGURE)
    with transaction.atomic():
        flow = ApprovalFlow.objects.filter(kind=kind).first()
        if flow is None:
            return
        record_event(
            actor=actor,
            action=AuditEvent.Action.DELETE,
            obj=flow,
            before={"roles": flow.roles},
        )
        flow.delete()


def approving_roles() -> list[str]:
    """The roles that may take a step of an approval: the county's roles that read records."""
    return [r.code for r in business_roles() if "records.read" in r.permissions]


def check_approval_roles(roles: list[str]) -> None:
    """Refuse, with the reason, steps that are no approval."""
    if not roles:
        raise ValidationError(_("An approval needs one step at least."), code="no_steps")
    wrong = [r for r in roles if r not in approving_roles()]
    if wrong:
        raise ValidationError(
            _("These roles do not approve requests: %(roles)s")
            % {"roles": ", ".join(role_label(r) for r in wrong)},
            code="not_approving_role",
        )
    if len(set(roles)) != len(roles):
        raise ValidationError(
            _("A role may take one step only: two steps by the same role are one person's."),
            code="repeated_role",
        )


# --- roles (security.permissions) ---------------------------------------------------------


def check_known_role(role: str) -> None:
    """Refuse a role that is neither fixed nor one of the county's."""
    if role not in FIXED_ROLES and role not in {r.code for r in business_roles()}:
        raise ValidationError(_("There is no role %(role)s.") % {"role": role}, code="unknown_role")


def define_role(
    *, actor, code: str, permissions, name: str = "", description: str = ""
) -> RoleDefinition:
    """Add one of the county's roles or change one (the system administrator's configuration).

    Refused with the reason: a fixed role (the three administrators', the citizen's), a
    permission of an administrator's duty, and taking record reading from a role that takes
    a step of an approval (its approver could not see the request)."""
    if actor is not None:
        check_duty(actor, Duty.CONFIGURE)
    code = (code or "").strip()
    if code in FIXED_ROLES:
        raise ValidationError(
            _("The roles of the three administrators and of citizens are fixed."),
            code="fixed_role",
        )
    if not code or len(code) > 20 or not code.replace("_", "").replace("-", "").isalnum():
        raise ValidationError(
            _("A role's code is up to 20 letters, digits, - and _."), code="bad_role_code"
        )
    codes = [c for c in PERMISSIONS if c in set(permissions)]  # the registry's order
    check_role_permissions(set(permissions))
    if "records.read" not in codes and code in _approval_step_roles():
        raise ValidationError(
            _("This role takes a step of an approval: it must read records."),
            code="approver_reads",
        )
    with transaction.atomic():
        role = RoleDefinition.objects.select_for_update().filter(code=code).first()
        before = None if role is None else list(role.permissions)
        if role is None:
            role = RoleDefinition(code=code)
            if code in DEFAULT_ROLES:
                before = sorted(DEFAULT_ROLES[code])
        role.name, role.description, role.permissions = name or "", description or "", codes
        role.save()
        record_event(
            actor=actor,
            action=AuditEvent.Action.CREATE if before is None else AuditEvent.Action.UPDATE,
            obj=role,
            before=None if before is None else {"permissions": before},
            after={"name": role.name, "permissions": codes},
        )
        if before != codes:
            role_changed.send(
                sender=RoleDefinition, actor=actor, role=code, before=before, after=codes
            )
    return role


def remove_role(*, actor, code: str) -> None:
    """Remove one of the county's own roles: refused while an account holds it or an approval
    step names it (give them another first); today's roles stay (change them instead)."""
    if actor is not None:
        check_duty(actor, Duty.CONFIGURE)
    if code in FIXED_ROLES or code in DEFAULT_ROLES:
        raise ValidationError(
            _("Today's roles and the fixed ones stay: change their permissions instead."),
            code="default_role",
        )
    holders = User.objects.filter(role=code).count()
    if holders:
        raise ValidationError(
            _("%(count)d account(s) hold the role %(role)s: give them another role first.")
            % {"count": holders, "role": role_label(code)},
            code="role_assigned",
        )
    if code in _approval_step_roles():
        raise ValidationError(
            _("The role %(role)s takes a step of an approval: change the steps first.")
            % {"role": role_label(code)},
            code="role_in_approval",
        )
    with transaction.atomic():
        role = RoleDefinition.objects.filter(code=code).first()
        if role is None:
            return
        before = list(role.permissions)
        record_event(
            actor=actor, action=AuditEvent.Action.DELETE, obj=role, before={"permissions": before}
        )
        role.delete()
        role_changed.send(sender=RoleDefinition, actor=actor, role=code, before=before, after=None)


def _approval_step_roles() -> set[str]:
    return {r for flow in ApprovalFlow.objects.all() for r in flow.roles}
