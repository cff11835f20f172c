"""Log-ins and failed log-ins go to the audit trail."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .models import AuditEvent
from .services import record_event


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    record_event(actor=user, action=AuditEvent.Action.LOGIN, obj=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        record_event(actor=user, action=AuditEvent.Action.LOGOUT, obj=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    user = get_user_model().objects.filter(username=username).first()
    detail = {}
    if credentials.get("step"):
        detail["step"] = credentials["step"]
    if getattr(request, "axes_locked_out", False):
        detail["refused"] = "locked"  # django-axes refused it before the password was checked
    record_event(
        actor=None,
        action=AuditEvent.Action.LOGIN_FAILED,
        obj=user,
        object_type="accounts.user",
        object_repr=username,
        detail=detail or None,
    )
