"""Log-in in two steps: the password, then a one-time code from the user's authenticator app
(or, on the first log-in, setting the app up). The user is logged in only after both.

Between the steps the session holds only who passed the password and when (``PENDING``); an
abandoned first step expires after ``PENDING_SECONDS``. Failed passwords and failed codes both
count towards the lock-out.
"""

import time

from django import forms
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render, resolve_url
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from . import lockout, services, twofactor
from .models import User

PENDING = "dangan_pending_login"
PENDING_SECONDS = 300
ISSUER = "Dangan"

LOCKED = gettext_lazy(
    "This account is locked after too many failed log-ins. "
    "Ask the security administrator to unlock it."
)
LOCKED_UNTIL = gettext_lazy(
    "Too many failed log-ins: log-in is locked until %(until)s. "
    "The security administrator can lift the lock earlier."
)


def locked_message(lock) -> str:
    """What a locked account or address is told: until when, or to ask for the lock to be lifted."""
    if lock.ends_at is None:
        return str(LOCKED)
    until = timezone.localtime(lock.ends_at)
    return LOCKED_UNTIL % {"until": formats.date_format(until, "DATETIME_FORMAT")}


class PasswordForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("User name"), max_length=150)
    password = forms.CharField(label=gettext_lazy("Password"), strip=False)


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Six-digit code"), max_length=12)


def _next_url(request, value):
    if value and url_has_allowed_host_and_scheme(
        value, {request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _pending_user(request):
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None, None
    return User.objects.filter(pk=pending["user"], is_active=True).first(), pending


def _finish(request, user, pending):
    request.session.pop(PENDING, None)
    previous_login = user.last_login
    auth.login(request, user, backend=pending["backend"])
    request.session["dangan_login_at"] = time.time()
    lockout.tell_failures(request, user, previous_login)
    return redirect(pending["next"])


def _failed_code(request, user):
    """A wrong second-factor code: audited and counted like a wrong password (through Django's
    signal, which the audit trail and the lock-out both hear); the lock in force, if any."""
    user_login_failed.send(
        sender=__name__,
        credentials={"username": user.username, "step": "second factor"},
        request=request,
    )
    return lockout.active_lock(username=user.username, address=lockout.client_address(request))


@sensitive_post_parameters()
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login(request):
    """Step one: user name and password."""
    form = PasswordForm(request.POST or None)
    error = None
    next_url = request.POST.get("next") or request.GET.get("next", "")
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        # A locked account or address is refused inside authenticate() (django-axes), whatever
        # the password: no guessing while locked.
        user = auth.authenticate(request, username=username, password=form.cleaned_data["password"])
        if user is None:
            lock = lockout.active_lock(username=username, address=lockout.client_address(request))
            if lock is not None:
                error = locked_message(lock)
            else:
                error = _("Your user name and password did not match. Please try again.")
        else:
            pending = {
                "user": user.pk,
                "backend": user.backend,
                "next": _next_url(request, next_url),
                "at": time.time(),
            }
            if not services.two_factor_required(user):
                return _finish(request, user, pending)
            request.session.cycle_key()
            request.session[PENDING] = pending
            enrolled = getattr(getattr(user, "two_factor", None), "confirmed", False)
            return redirect("login-verify" if enrolled else "login-enrol")
    return render(
        request,
        "registration/login.html",
        {"form": form, "error": error, "next": next_url},
        status=200,
    )


@sensitive_post_parameters()
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def verify(request):
    """Step two: the code the authenticator app shows now."""
    user, pending = _pending_user(request)
    if user is None:
        messages.info(request, _("Please log in again."))
        return redirect("login")
    if not getattr(getattr(user, "two_factor", None), "confirmed", False):
        return redirect("login-enrol")
    form = CodeForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        lock = lockout.active_lock(username=user.username, address=lockout.client_address(request))
        if lock is not None:
            request.session.pop(PENDING, None)
            error = locked_message(lock)
        elif services.verify_second_factor(user=user, code=form.cleaned_data["code"]):
            return _finish(request, user, pending)
        else:
            lock = _failed_code(request, user)
            error = locked_message(lock) if lock else _("This code is not right. Try the next.")
    return render(request, "accounts/verify.html", {"form": form, "error": error})


@sensitive_post_parameters()
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def enrol(request):
    """First log-in of staff: set up the authenticator app with the QR code, confirm one code."""
    user, pending = _pending_user(request)
    if user is None:
        messages.info(request, _("Please log in again."))
        return redirect("login")
    try:
        device = services.start_enrolment(user=user)
    except ValidationError:
        return redirect("login-verify")
    form = CodeForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        if services.verify_second_factor(user=user, code=code, enrolling=True):
            return _finish(request, user, pending)
        lock = _failed_code(request, user)
        error = locked_message(lock) if lock else _("This code is not right. Try the next.")
    uri = twofactor.provisioning_uri(device.secret, account=user.username, issuer=ISSUER)
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "error": error,
            "qr_svg": twofactor.qr_svg(uri),
            "secret": twofactor.grouped(device.secret),
        },
    )


logout = auth_views.LogoutView.as_view()
