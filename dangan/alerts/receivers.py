"""Alerts raised from what the ground apps below tell by signals (they may not import us)."""

from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext as _

from dangan.accounts.models import Lockout
from dangan.accounts.signals import locked_out, rights_changed, role_changed
from dangan.audit.services import chain_broken

from .services import Kind, raise_alert


@receiver(locked_out)
def _locked_out(sender, lock, **kwargs):
    link = reverse("admin:accounts_lockout_change", args=[lock.pk])
    where = ", ".join(lock.addresses) or "?"
    if lock.scope == Lockout.Scope.ACCOUNT:
        kind = Kind.FAILED_LOGINS_ACCOUNT
        summary = _("The account %(key)s was locked after %(count)d failed log-ins from %(where)s.")
    else:
        kind = Kind.FAILED_LOGINS_ADDRESS
        summary = _("The address %(key)s was locked after %(count)d failed log-ins.")
    raise_alert(
        kind=kind,
        summary=summary % {"key": lock.key, "count": lock.failures, "where": where},
        link=link,
        key=f"{lock.scope}:{lock.key}",
        detail={"lock": lock.pk, "addresses": lock.addresses},
    )


@receiver(rights_changed)
def _rights_changed(sender, actor, user, before, after, **kwargs):
    raise_alert(
        kind=Kind.SECURITY_CHANGE,
        summary=_("%(actor)s changed the rights of %(user)s.")
        % {"actor": getattr(actor, "username", None) or _("the system"), "user": user.username},
        who=actor,
        link=reverse("admin:accounts_user_change", args=[user.pk]),
        detail={"user": user.username, "before": before, "after": after},
    )


@receiver(chain_broken)
def _chain_broken(sender, broken, **kwargs):
    raise_alert(
        kind=Kind.VERIFICATION_FAILED,
        summary=_("The audit trail failed verification: %(count)d entries no longer match.")
        % {"count": len(broken)},
        link=reverse("audit:verify"),
        key="audit-chain",
        detail={"entries": broken[:100]},
    )


@receiver(role_changed)
def _role_changed(sender, actor, role, before, after, **kwargs):
    raise_alert(
        kind=Kind.SECURITY_CHANGE,
        summary=_("%(actor)s changed the role %(role)s.")
        % {"actor": getattr(actor, "username", None) or _("the system"), "role": role},
        who=actor,
        link=reverse("admin:accounts_roledefinition_changelist"),
        detail={"role": role, "before": before, "after": after},
    )
