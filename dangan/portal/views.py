"""The portal's pages: thin, each calls one selector or service.

Citizens' pages answer 404 for a record that is not theirs (whether it exists is not theirs to
learn) and 403 to staff, who have their own pages. Log-in, sign-up and the public search are
rate-limited per client address (``DANGAN_PORTAL_RATE_LIMITS``).
"""

import functools
import time

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from dangan.access.models import Purpose
from dangan.access.selectors import requests_of
from dangan.access.services import delivery_url, submit_request
from dangan.accounts import lockout
from dangan.accounts.models import Role
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.catalogue.models import Record
from dangan.remote import selectors as remote_selectors
from dangan.remote import services as remote_services
from dangan.remote.forms import CitizenAskForm
from dangan.security.clients import client_address
from dangan.security.ratelimit import hit

from . import oidc, selectors, services
from .forms import (
    CopyRequestForm,
    CounterBindForm,
    CounterUnbindForm,
    LoginForm,
    SearchForm,
    SignUpForm,
)

LOGIN_AT = "dangan_login_at"


def _limited(request, kind: str) -> bool:
    """Count one request of ``kind`` for this address; True when over the limit."""
    limit, window = settings.DANGAN_PORTAL_RATE_LIMITS[kind]
    return not hit(f"portal-{kind}:{client_address(request)}", limit=limit, window=window)


def _too_many(request, kind: str):
    _limit, window = settings.DANGAN_PORTAL_RATE_LIMITS[kind]
    response = render(
        request,
        "portal/message.html",
        {"message": _("Too many requests. Wait a minute and try again.")},
        status=429,
    )
    response["Retry-After"] = str(window)
    return response


def citizen_required(view):
    """Citizens only: a visitor is sent to the portal's log-in, staff are refused."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:portal-login"))
        if user.role != Role.CITIZEN:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return never_cache(wrapped)


def _log_in(request, user):
    auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[LOGIN_AT] = time.time()


def _next(request, default="portal:my-records"):
    value = request.POST.get("next") or request.GET.get("next")
    if value and url_has_allowed_host_and_scheme(
        value, {request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return reverse(default)


# --- Public pages ------------------------------------------------------------------------------


@require_http_methods(["GET"])
def home(request):
    return render(
        request,
        "portal/home.html",
        {
            "profile": selectors.citizen_profile(request.user),
            "search_form": SearchForm(),
            "sso": oidc.enabled(),
        },
    )


@require_http_methods(["GET"])
def search(request):
    """The open catalogue (开放 records), for anyone; names and ID numbers masked."""
    form = SearchForm(request.GET or None)
    results = None
    if form.is_valid() and form.cleaned_data["q"]:
        if _limited(request, "search"):
            return _too_many(request, "search")
        category = form.cleaned_data["category"]
        results = selectors.public_search(
            form.cleaned_data["q"],
            category=category.pk if category else None,
            page=form.cleaned_data["page"] or 1,
        )
    return render(request, "portal/search.html", {"form": form, "results": results})


# --- Log-in, sign-up, single sign-on ----------------------------------------------------------

FAILED = gettext_lazy("Your user name or phone and password did not match. Please try again.")


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "POST"])
def login(request):
    """Local citizen accounts: user name or phone, and password. Staff log in at /login/ with
    their second factor; here they are refused exactly like a wrong password."""
    form = LoginForm(request.POST or None)
    error = None
    if request.method == "POST":
        if _limited(request, "login"):
            return _too_many(request, "login")
        if form.is_valid():
            username = services.username_for_login(form.cleaned_data["username"])
            # django-axes refuses a locked account or address inside authenticate(); a wrong
            # password is counted by the lock-out through Django's signal (accounts.lockout).
            user = auth.authenticate(
                request, username=username, password=form.cleaned_data["password"]
            )
            if user is not None and user.role != Role.CITIZEN:
                user_login_failed.send(
                    sender=__name__, credentials={"username": username}, request=request
                )
                user = None
            lock = None
            if user is None:
                address = lockout.client_address(request)
                lock = lockout.active_lock(username=username, address=address)
            if lock is not None:
                error = _(
                    "Too many failed log-ins: log-in is locked for a while. Try again later, "
                    "or ask at the archive's counter to unlock it."
                )
            elif user is None:
                error = FAILED
            else:
                previous_login = user.last_login
                _log_in(request, user)
                lockout.tell_failures(request, user, previous_login)
                return redirect(_next(request))
    return render(
        request,
        "portal/login.html",
        {
            "form": form,
            "error": error,
            "sso": oidc.enabled(),
            "sso_name": settings.DANGAN_OIDC_PROVIDER_NAME,
            "local": settings.DANGAN_PORTAL_LOCAL_ACCOUNTS,
            "next": request.GET.get("next", ""),
        },
    )


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "POST"])
def signup(request):
    if not settings.DANGAN_PORTAL_LOCAL_ACCOUNTS:
        raise Http404
    form = SignUpForm(request.POST or None)
    if request.method == "POST":
        if _limited(request, "signup"):
            return _too_many(request, "signup")
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = services.sign_up(
                    username=data["username"],
                    password=data["password"],
                    name=data["name"],
                    phone=data["phone"],
                )
            except ValidationError as exc:
                field = {"phone": "phone", "phone_taken": "phone", "taken": "username"}.get(
                    getattr(exc, "code", None), "password"
                )
                form.add_error(field, exc)
            else:
                _log_in(request, user)
                messages.success(request, _("Your account is ready."))
                return redirect("portal:my-records")
    return render(request, "portal/signup.html", {"form": form})


@require_http_methods(["GET"])
def oidc_start(request):
    if not oidc.enabled():
        raise Http404
    if _limited(request, "login"):
        return _too_many(request, "login")
    try:
        return oidc.start(request)
    except oidc.SignOnError:
        return render(
            request,
            "portal/message.html",
            {"message": _("The single sign-on cannot be reached now. Try again later.")},
            status=502,
        )


@never_cache
@require_http_methods(["GET"])
def oidc_callback(request):
    if not oidc.enabled():
        raise Http404
    try:
        issuer, claims = oidc.finish(request)
        user = services.citizen_from_sso(
            issuer=issuer,
            claims=claims,
            id_number_claim=settings.DANGAN_OIDC_ID_NUMBER_CLAIM,
            name_claim=settings.DANGAN_OIDC_NAME_CLAIM,
        )
    except (oidc.SignOnError, ValidationError) as exc:
        record_event(
            actor=None,
            action=AuditEvent.Action.LOGIN_FAILED,
            object_type="accounts.user",
            detail={"portal": "single sign-on", "error": str(exc)[:200]},
        )
        return render(
            request,
            "portal/message.html",
            {"message": _("The single sign-on did not log you in. Please try again.")},
            status=400,
        )
    _log_in(request, user)
    return redirect("portal:my-records")


@require_POST
def logout(request):
    auth.logout(request)
    return redirect("portal:portal-home")


# --- The citizen's own pages -------------------------------------------------------------------


@citizen_required
@require_http_methods(["GET"])
def my_records(request):
    profile = selectors.citizen_profile(request.user)
    entries = selectors.my_records(request.user) if profile and profile.is_bound else []
    return render(request, "portal/my_records.html", {"profile": profile, "entries": entries})


@citizen_required
@require_http_methods(["GET"])
def my_record(request, pk):
    try:
        entry = selectors.my_record(request.user, pk)
    except Record.DoesNotExist:
        raise Http404 from None
    return render(request, "portal/my_record.html", {"entry": entry, "form": CopyRequestForm()})


@citizen_required
@require_POST
def request_copy(request, pk):
    """A copy of one of the citizen's records, or of an open record, through the access app's
    rules (open records are delivered at once)."""
    own = selectors.citizen_records(request.user).filter(pk=pk).exists()
    if not own and not selectors.open_records().filter(pk=pk).exists():
        raise Http404
    back = redirect("portal:my-record", pk=pk) if own else redirect("portal:portal-search")
    form = CopyRequestForm(request.POST)
    if not form.is_valid():
        return back
    try:
        req = submit_request(
            requester=request.user,
            record=pk,
            purpose=Purpose.PERSONAL,
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return back
    messages.success(request, _("Request %(number)s was sent.") % {"number": req.number})
    return redirect("portal:my-requests")


@citizen_required
@require_http_methods(["GET"])
def my_requests(request):
    """The citizen's copy requests, their state, and a fresh download link for each copy."""
    rows = []
    for req in requests_of(request.user):
        rows.append(
            {
                "request": req,
                "entry": selectors.entry_for(request.user, req.record),
                "download": delivery_url(access_request=req)
                if getattr(req, "is_downloadable", False)
                else None,
            }
        )
    return render(request, "portal/my_requests.html", {"rows": rows})


@citizen_required
@require_http_methods(["GET", "POST"])
def remote_requests(request):
    """异地查档: the citizen asks another county's archive for their own files (by the ID number
    their account is bound to), follows the request and downloads the certificate."""
    bound = selectors.bound_id_number(request.user)
    form = CitizenAskForm(request.POST or None, holders=remote_services.holders_for(request.user))
    if request.method == "POST" and bound and form.is_valid():
        try:
            req = remote_services.ask(
                actor=request.user,
                holder=form.cleaned_data["holder"],
                id_number=bound,
                purpose=form.cleaned_data["purpose"],
                reason=form.cleaned_data["reason"],
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, _("Request %(number)s was sent.") % {"number": req.number})
            return redirect("portal:remote-requests")
    rows = remote_selectors.citizen_requests(request.user).prefetch_related("certificates")
    return render(
        request, "portal/remote_requests.html", {"form": form, "bound": bound, "rows": rows}
    )


# --- The counter: binding an account after checking the ID card ---------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def counter_bind(request):
    """A reading-room clerk or archivist binds a citizen's account to the ID card shown, or
    undoes a binding made by mistake."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("login"))
    if not services.may_bind_at_counter(user):
        raise PermissionDenied
    action = request.POST.get("action")
    form = CounterBindForm(request.POST if action == "bind" else None)
    unbind = CounterUnbindForm(request.POST if action == "unbind" else None, prefix="unbind")
    if action == "bind" and form.is_valid():
        data = form.cleaned_data
        citizen = services.find_citizen(data["account"])
        if citizen is None:
            form.add_error("account", _("No citizen account with this user name or phone."))
        else:
            try:
                services.bind_at_counter(
                    actor=user,
                    citizen=citizen,
                    id_number=data["id_number"],
                    card_checked=data["card_checked"],
                )
            except ValidationError as exc:
                form.add_error("id_number", exc)
            else:
                messages.success(
                    request,
                    _("The account %(account)s is bound; its holder now sees their records.")
                    % {"account": citizen.username},
                )
                return redirect("portal:counter-bind")
    if action == "unbind" and unbind.is_valid():
        citizen = services.find_citizen(unbind.cleaned_data["account"])
        if citizen is None:
            unbind.add_error("account", _("No citizen account with this user name or phone."))
        else:
            try:
                services.unbind_at_counter(
                    actor=user, citizen=citizen, reason=unbind.cleaned_data["reason"]
                )
            except ValidationError as exc:
                unbind.add_error("reason", exc)
            else:
                messages.success(
                    request,
                    _("The binding of %(account)s is undone.") % {"account": citizen.username},
                )
                return redirect("portal:counter-bind")
    return render(request, "portal/counter_bind.html", {"form": form, "unbind": unbind})
