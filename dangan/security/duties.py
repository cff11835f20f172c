"""Separation of duties (三员分立): what each of the three administrators may do.

* the **system administrator** (系统管理员) keeps accounts (creates them, names, unit, active,
  password) and the configuration (units, fonds, categories and their schemas); reads no
  records and cannot give anyone a role or a grant;
* the **security administrator** (安全保密管理员) gives roles and grants to others and unlocks
  locked accounts; never their own;
* the **security auditor** (安全审计员) reads the audit trail of everyone, the other two
  included, and changes nothing.

One person holds one role, so the three are mutually exclusive; nobody changes their own rights;
Dangan has no superuser. The services check these rules, and so do the admin's pages.
"""

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from .roles import ADMIN_ROLES, Role


class Duty(StrEnum):
    CONFIGURE = "configure"  # units, fonds, categories, schemas, retention
    ACCOUNTS = "accounts"  # create accounts, change names, unit, active, password
    RIGHTS = "rights"  # roles, grants, unlocking
    AUDIT = "audit"  # read the audit trail


DUTIES = {
    Role.SYSTEM_ADMIN: {Duty.CONFIGURE, Duty.ACCOUNTS},
    Role.SECURITY_ADMIN: {Duty.RIGHTS},
    Role.AUDITOR: {Duty.AUDIT},
}


def has_duty(user, duty: Duty) -> bool:
    """Whether ``user`` holds ``duty`` (is_superuser gives nothing: there is no superuser)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return duty in DUTIES.get(user.role, set())


def may_administer(user) -> bool:
    """The Django admin's own rule (``AdminSite.has_permission``): active staff, that is, the
    three administrators."""
    return bool(user and user.is_active and user.is_staff)


def check_duty(user, duty: Duty) -> None:
    if not has_duty(user, duty):
        raise PermissionDenied(_("This is not part of your duties."))


def check_rights_change(actor, target) -> None:
    """The security administrator may change the role and grants of anyone but themselves."""
    check_duty(actor, Duty.RIGHTS)
    if target.pk is not None and target.pk == actor.pk:
        raise PermissionDenied(_("Nobody may change their own rights."))


def check_account_change(actor, target) -> None:
    """The system administrator keeps the accounts of others; the accounts of the three
    administrators are kept by the security administrator, so that the system administrator
    cannot switch off the auditor who watches them."""
    if target.pk is not None and target.pk == actor.pk:
        raise PermissionDenied(_("Nobody may change their own account's rights or state."))
    if target.role in ADMIN_ROLES and target.pk is not None:
        check_duty(actor, Duty.RIGHTS)
    else:
        check_duty(actor, Duty.ACCOUNTS)
