"""Pages of remote requests (异地查档): the asking desk, the holder's inbox, the peers, and the
endpoint peers post their signed messages to (``/remote/messages/``)."""

import functools
import json
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.security.clients import client_address

from . import envelopes, keys, selectors, services
from .forms import AnswerForm, AskForm, PeerForm
from .models import DeliveredCertificate, RemoteRequest

logger = logging.getLogger(__name__)


def _only(check, message):
    def decorator(view):
        @login_required
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


desk_required = _only(selectors.is_desk, _("Remote requests are asked at the reading room."))
holder_required = _only(selectors.is_holder, _("Archivists and leaders answer remote requests."))
sysadmin_required = _only(
    selectors.may_register_peers, _("Peers are registered by the system administrator.")
)


def _errors(request, exc):
    for message in getattr(exc, "messages", [str(exc)]):
        messages.error(request, message)


# --- The asking desk -----------------------------------------------------------------------------
@desk_required
def desk(request):
    form = AskForm(request.POST or None, holders=services.holders_for(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            req = services.ask(
                actor=request.user,
                holder=data["holder"],
                id_number=data["id_number"],
                purpose=data["purpose"],
                reason=data["reason"],
            )
        except (ValidationError, PermissionDenied) as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("Request %(number)s registered.") % {"number": req.number})
            return redirect("remote:desk-detail", req.pk)
    rows = selectors.desk_requests(request.user).prefetch_related("certificates")[:200]
    return render(request, "remote/desk.html", {"form": form, "requests": rows})


@desk_required
def desk_detail(request, pk):
    try:
        req = selectors.desk_requests(request.user).get(pk=pk)
    except RemoteRequest.DoesNotExist:
        raise Http404 from None
    return render(
        request,
        "remote/desk_detail.html",
        {"req": req, "copies": req.certificates.all(), "waiting": selectors.waiting_messages(req)},
    )


@desk_required
@require_POST
def withdraw(request, pk):
    try:
        req = selectors.desk_requests(request.user).get(pk=pk)
        services.withdraw(
            actor=request.user, remote_request=req, reason=request.POST.get("reason", "")
        )
    except RemoteRequest.DoesNotExist:
        raise Http404 from None
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    return redirect("remote:desk-detail", pk)


@login_required
def copy_pdf(request, pk):
    """A delivered certificate, to print at the desk (or the citizen's download): audited."""
    from dangan.content.selectors import open_blob

    try:
        copy = selectors.delivered_copy(request.user, pk)
    except DeliveredCertificate.DoesNotExist:
        raise Http404 from None
    stream = open_blob(copy.blob)
    record_event(
        actor=request.user,
        action=AuditEvent.Action.DOWNLOAD,
        obj=copy.request,
        detail={"certificate": copy.number, "number": copy.request.number},
    )
    return FileResponse(
        stream, content_type="application/pdf", as_attachment=True, filename=f"{copy.number}.pdf"
    )


# --- The holder ----------------------------------------------------------------------------------
@holder_required
def inbox(request):
    state = request.GET.get("state") or None
    rows = selectors.inbox(request.user, state=state)[:200]
    return render(
        request,
        "remote/inbox.html",
        {"requests": rows, "states": RemoteRequest.State.choices, "state": state},
    )


@holder_required
def inbox_detail(request, pk):
    try:
        req = selectors.inbox(request.user).get(pk=pk)
    except RemoteRequest.DoesNotExist:
        raise Http404 from None
    form = AnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reason, decision = form.cleaned_data["reason"], request.POST.get("decision")
        try:
            if decision == "approve":
                services.approve(
                    actor=request.user,
                    remote_request=req,
                    records=request.POST.getlist("records"),
                    reason=reason,
                )
            elif decision in ("refuse", "none_held"):
                services.refuse(
                    actor=request.user,
                    remote_request=req,
                    reason=reason,
                    none_held=decision == "none_held",
                )
            else:
                raise ValidationError(_("Approve or refuse."))
        except RemoteRequest.DoesNotExist:
            raise Http404 from None
        except (ValidationError, PermissionDenied) as exc:
            _errors(request, exc)
        else:
            return redirect("remote:inbox-detail", req.pk)
    found = list(services.holdings(req, request.user).select_related("category"))
    # Every look at the person's records is a read of personal data, answered or not.
    record_event(
        actor=request.user,
        action=AuditEvent.Action.READ,
        obj=req,
        detail={"number": req.number, "records_found": len(found), "state": req.state},
    )
    return render(
        request,
        "remote/inbox_detail.html",
        {
            "req": req,
            "form": form,
            "found": [(r, services.access.rule_for(r)) for r in found],
            "open": req.state == RemoteRequest.State.RECEIVED,
            "waiting": selectors.waiting_messages(req),
        },
    )


# --- Peers ---------------------------------------------------------------------------------------
@sysadmin_required
def peers(request):
    form = PeerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.add_peer(
                actor=request.user,
                code=data["code"],
                name=data["name"],
                base_url=data["base_url"],
                key_text=data["key"],
            )
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("Peer %(code)s registered.") % {"code": data["code"]})
            return redirect("remote:peers")
    return render(
        request,
        "remote/peers.html",
        {
            "form": form,
            "peers": selectors.peers(),
            "own": {"code": keys.code(), "name": keys.name(), "pem": keys.pem(keys.public_key())},
        },
    )


# --- Messages from peers -------------------------------------------------------------------------
@csrf_exempt
@require_POST
def receive(request):
    """A peer's signed message: stored once and acknowledged, or refused (4xx, reason logged)
    with nothing stored."""
    raw = request.read(settings.DANGAN_MAX_UPLOAD_BYTES + 1)
    try:
        incoming = envelopes.check(raw)
        status = services.receive(incoming)
    except envelopes.Refused as refusal:
        logger.warning(
            "remote message refused from %s: %s",
            client_address(request),
            refusal,
        )
        return HttpResponse(
            json.dumps({"error": refusal.code, "detail": refusal.detail}),
            status=refusal.status,
            content_type="application/json",
        )
    return HttpResponse(
        json.dumps({"ack": str(incoming.id), "status": status}), content_type="application/json"
    )
