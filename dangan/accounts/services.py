"""Writing accounts and rights, audited."""

from django.db import transaction
from django.utils.crypto import get_random_string

from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event

from .models import Grant, Role, Secrecy, Unit, User


def create_user(
    *,
    actor,
    username,
    password,
    role=Role.ARCHIVIST,
    unit=None,
    grants=(),
    is_staff=False,
    is_superuser=False,
    **extra,
) -> User:
    """A user with their grants (dicts of Grant fields) in one audited step."""
    with transaction.atomic():
        user = User(
            username=username,
            role=role,
            unit=unit,
            is_staff=is_staff,
            is_superuser=is_superuser,
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
            after={"username": username, "role": role, "grants": len(grants)},
        )
    return user


def ensure_demo_admin(password_file) -> tuple[str, str]:
    """The demo's administrator, an archivist with rights on everything; (username, password).

    The password is made up once per installation and kept in ``password_file`` (mode 600).
    """
    if password_file.exists():
        password = password_file.read_text().strip()
    else:
        password = get_random_string(12)
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
            is_staff=True,
            is_superuser=True,
            first_name="演示管理员",
        )
    elif not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
    return "admin", password
