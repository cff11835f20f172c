"""Writing citizens' accounts: sign-up, the single sign-on, and binding to a verified ID number.

Every change is audited in its own transaction. ID numbers reach the audit trail masked only.
"""

import hashlib
import re

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.accounts.models import Role, User
from dangan.accounts.services import create_user
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.people import id_numbers
from dangan.security.permissions import has_permission

from .models import CitizenProfile


def may_bind_at_counter(user) -> bool:
    """Who binds citizens' accounts to the ID card shown at the counter, after checking it."""
    return has_permission(user, "portal.counter")


_PHONE = re.compile(r"^1\d{10}$")


def normalize_phone(raw: str) -> str:
    """A mainland mobile number, 11 digits starting with 1 (spaces, dashes, +86 dropped)."""
    text = re.sub(r"[\s\-()]", "", raw or "")
    text = re.sub(r"^(\+?86)", "", text)
    if not _PHONE.match(text):
        raise ValidationError(_("Enter an 11-digit mobile phone number."), code="phone")
    return text


def sign_up(*, username: str, password: str, name: str, phone: str = "") -> User:
    """A local citizen account (unbound: it sees no records until verified)."""
    username = username.strip()
    phone = normalize_phone(phone) if phone else ""
    if User.objects.filter(username__iexact=username).exists() or (
        CitizenProfile.objects.filter(phone=username).exists()
    ):
        raise ValidationError(_("This user name is taken; choose another."), code="taken")
    if phone and CitizenProfile.objects.filter(phone=phone).exists():
        raise ValidationError(
            _("This phone number already has an account; log in instead."), code="phone_taken"
        )
    validate_password(password, User(username=username, first_name=name))
    with transaction.atomic():
        user = create_user(
            actor=None,
            username=username,
            password=password,
            role=Role.CITIZEN,
            first_name=name,
        )
        CitizenProfile.objects.create(user=user, phone=phone)
        record_event(
            actor=user,
            action=AuditEvent.Action.CREATE,
            obj=user,
            detail={"portal": "sign-up", "phone": bool(phone)},
        )
    return user


def username_for_login(identifier: str) -> str:
    """The user name behind what a citizen typed: a user name, or the phone of a profile."""
    identifier = identifier.strip()
    try:
        phone = normalize_phone(identifier)
    except ValidationError:
        return identifier
    profile = CitizenProfile.objects.filter(phone=phone).select_related("user").first()
    return profile.user.username if profile is not None else identifier


def _bind(*, profile: CitizenProfile, number: str, via: str, actor) -> CitizenProfile:
    if profile.id_number == number:
        return profile
    if profile.id_number:
        raise ValidationError(
            _("This account is already bound to another ID number."), code="bound_other"
        )
    if CitizenProfile.objects.filter(id_number=number).exclude(pk=profile.pk).exists():
        raise ValidationError(
            _("This ID number is already bound to another account."), code="number_taken"
        )
    profile.id_number = number
    profile.bound_via = via
    profile.bound_at = timezone.now()
    profile.bound_by = actor if via == CitizenProfile.Binding.COUNTER else None
    try:
        with transaction.atomic():
            profile.save(update_fields=["id_number", "bound_via", "bound_at", "bound_by"])
    except IntegrityError:  # the same number bound at the same moment elsewhere
        raise ValidationError(
            _("This ID number is already bound to another account."), code="number_taken"
        ) from None
    record_event(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=profile.user,
        after={"id_number": id_numbers.mask(number), "bound_via": via},
    )
    return profile


def bind_at_counter(*, actor, citizen: User, id_number: str, card_checked: bool) -> CitizenProfile:
    """A reading-room clerk or archivist binds ``citizen``'s account to the number on the ID
    card the clerk has just checked against its holder."""
    if not may_bind_at_counter(actor):
        raise ValidationError(
            _("Only a reading-room clerk or an archivist binds accounts."), code="not_counter"
        )
    if not card_checked:
        raise ValidationError(
            _("Check the ID card against its holder first."), code="card_not_checked"
        )
    if citizen.role != Role.CITIZEN or not citizen.is_active:
        raise ValidationError(_("This is not a citizen's account."), code="not_citizen")
    number = id_numbers.normalize(id_number).number
    with transaction.atomic():
        profile, _created = CitizenProfile.objects.select_for_update().get_or_create(user=citizen)
        return _bind(
            profile=profile, number=number, via=CitizenProfile.Binding.COUNTER, actor=actor
        )


def unbind_at_counter(*, actor, citizen: User, reason: str) -> CitizenProfile:
    """Undo a binding made by mistake (the wrong card, the wrong account); the reason is kept
    in the audit trail. The account sees no records until it is bound again."""
    if not may_bind_at_counter(actor):
        raise ValidationError(
            _("Only a reading-room clerk or an archivist binds accounts."), code="not_counter"
        )
    if not reason.strip():
        raise ValidationError(_("Say why the binding is undone."), code="reason")
    with transaction.atomic():
        profile = CitizenProfile.objects.select_for_update().filter(user=citizen).first()
        if profile is None or not profile.id_number:
            raise ValidationError(_("This account is not bound."), code="not_bound")
        before = {"id_number": id_numbers.mask(profile.id_number), "bound_via": profile.bound_via}
        profile.id_number, profile.bound_via, profile.bound_at, profile.bound_by = (
            None,
            "",
            None,
            None,
        )
        profile.save(update_fields=["id_number", "bound_via", "bound_at", "bound_by"])
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=citizen,
            before=before,
            after={"id_number": None},
            detail={"reason": reason.strip()[:500]},
        )
    return profile


def find_citizen(identifier: str) -> User | None:
    """A citizen account by user name or phone, for the clerk at the counter."""
    username = username_for_login(identifier)
    return User.objects.filter(username=username, role=Role.CITIZEN, is_active=True).first()


def _sso_username(issuer: str, subject: str) -> str:
    return "sso-" + hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:20]


def citizen_from_sso(*, issuer: str, claims: dict, id_number_claim: str, name_claim: str) -> User:
    """The citizen account of a person the provincial single sign-on has just vouched for.

    ``claims`` come from an ID token whose signature, issuer, audience, expiry and nonce were
    verified (``portal.oidc``). The first log-in creates the account; when the token carries a
    valid ID number (the sign-on verified it, 实名认证), the account is bound to it. A local
    account already bound to that number at the counter is the same person: the sign-on is
    joined to it instead of making a second account.
    """
    subject = str(claims.get("sub") or "")
    if not subject:
        raise ValidationError(_("The single sign-on did not say who you are."), code="no_subject")
    name = str(claims.get(name_claim) or "")[:150]
    number = None
    raw = claims.get(id_number_claim)
    if raw:
        number = id_numbers.normalize(raw).number  # ValidationError: a malformed claim
    with transaction.atomic():
        profile = (
            CitizenProfile.objects.select_for_update()
            .filter(oidc_issuer=issuer, oidc_subject=subject)
            .select_related("user")
            .first()
        )
        if profile is None and number:
            profile = (
                CitizenProfile.objects.select_for_update()
                .filter(id_number=number, oidc_subject="")
                .select_related("user")
                .first()
            )
            if profile is not None:
                profile.oidc_issuer, profile.oidc_subject = issuer, subject
                profile.save(update_fields=["oidc_issuer", "oidc_subject"])
                record_event(
                    actor=profile.user,
                    action=AuditEvent.Action.UPDATE,
                    obj=profile.user,
                    after={"single_sign_on": issuer},
                )
        if profile is None:
            user = create_user(
                actor=None,
                username=_sso_username(issuer, subject),
                password=None,
                role=Role.CITIZEN,
                first_name=name,
            )
            profile = CitizenProfile.objects.create(
                user=user, oidc_issuer=issuer, oidc_subject=subject
            )
            record_event(
                actor=user,
                action=AuditEvent.Action.CREATE,
                obj=user,
                detail={"portal": "single sign-on", "issuer": issuer},
            )
        if profile.user.role != Role.CITIZEN or not profile.user.is_active:
            raise ValidationError(_("This account may not log in here."), code="not_citizen")
        if number and profile.id_number != number:
            _bind(
                profile=profile, number=number, via=CitizenProfile.Binding.SSO, actor=profile.user
            )
    return profile.user
