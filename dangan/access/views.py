"""Pages of the reading room, the loans desk, access requests and certificates (staff), and the
delivery link of a requester. The public verification pages are in ``verify_views``.

The views parse the request and call one service or selector; the services' errors end as
messages on the page. An object outside the user's rights answers 404.
"""

import functools
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dangan import spreadsheets
from dangan.accounts import approvals
from dangan.accounts.models import ApprovalFlow
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.catalogue.models import Record
from dangan.catalogue.selectors import may_browse_records
from dangan.jobs.registry import CONTENT_TYPES
from dangan.jobs.services import start_job

from . import outputs, register, selectors, services
from .forms import (
    ConsultedForm,
    DecisionForm,
    LoanForm,
    RegisterRangeForm,
    RequestForm,
    VisitForm,
    resolve_codes,
)
from .models import AccessRequest, Certificate, Loan, Outcome, Use, Visit

XLSX = spreadsheets.CONTENT_TYPE


def desk_required(view):
    """Archivists, reading-room clerks and leaders; others are told, not shown an empty desk."""

    @login_required
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not selectors.is_desk_reader(request.user):
            raise PermissionDenied(_("The reading room is served by archivists and clerks."))
        return view(request, *args, **kwargs)

    return wrapped


def _errors(request, exc):
    for message in getattr(exc, "messages", [str(exc)]):
        messages.error(request, message)


def _one_record(request, code: str) -> Record | None:
    found, missing = resolve_codes(request.user, [code.strip()])
    if not found:
        messages.error(request, _("No record with the archival code %(code)s.") % {"code": code})
        return None
    return found[0]


# --- Reading room --------------------------------------------------------------------------------
@desk_required
def home(request):
    form = VisitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        found, missing = resolve_codes(request.user, data.pop("records"))
        if missing:
            messages.error(request, _("Not found: %(codes)s") % {"codes": ", ".join(missing[:20])})
        else:
            try:
                visit = services.register_visit(actor=request.user, records=found, **data)
            except (ValidationError, PermissionDenied) as exc:
                _errors(request, exc)
            else:
                messages.success(request, _("Visit registered."))
                return redirect("access:visit-detail", visit.pk)
    return render(
        request,
        "access/home.html",
        {
            "form": form,
            "visits": selectors.recent_visits(request.user),
            "overdue": selectors.overdue_loans(request.user)[:20],
            "pending": selectors.staff_requests(request.user, state=AccessRequest.State.SUBMITTED)[
                :20
            ],
            "range_form": RegisterRangeForm(initial=RegisterRangeForm.initial_range()),
        },
    )


@desk_required
def visit_detail(request, pk):
    try:
        visit = selectors.visit_for_desk(request.user, pk)
    except Visit.DoesNotExist:
        raise Http404 from None
    form = ConsultedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        found, missing = resolve_codes(request.user, form.cleaned_data["records"])
        if missing:
            messages.error(request, _("Not found: %(codes)s") % {"codes": ", ".join(missing[:20])})
        else:
            try:
                services.add_consulted(actor=request.user, visit=visit, records=found)
            except (ValidationError, PermissionDenied) as exc:
                _errors(request, exc)
            else:
                return redirect("access:visit-detail", visit.pk)
    day = timezone.localdate(visit.at)
    visits = [v for v in selectors.visits_between(request.user, day, day) if v.pk == visit.pk]
    return render(
        request,
        "access/visit_detail.html",
        {"visit": visits[0], "form": form, "outcomes": Outcome.choices},
    )


@desk_required
@require_POST
def use_outcome(request, pk):
    """Record what one use of a visit achieved (利用效果)."""
    try:
        use = selectors.use_for_desk(request.user, pk)
    except Use.DoesNotExist:
        raise Http404 from None
    try:
        services.record_outcome(
            actor=request.user, use=use, outcome=request.POST.get("outcome", "")
        )
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("Outcome recorded."))
    return (
        redirect("access:visit-detail", use.visit_id) if use.visit_id else redirect("access:home")
    )


@desk_required
def register_view(request):
    form = RegisterRangeForm(request.GET or RegisterRangeForm.initial_range())
    if not form.is_valid():
        return render(request, "access/register.html", {"form": form, "rows": []})
    start, end, fmt = (form.cleaned_data[k] for k in ("start", "end", "format"))
    visits = selectors.visits_between(request.user, start, end)
    # The register names visitors: looking at it is a read of personal data, audited as such.
    record_event(
        actor=request.user,
        action=AuditEvent.Action.READ if fmt == "html" else AuditEvent.Action.EXPORT,
        object_type="access.register",
        detail={"start": start, "end": end, "format": fmt, "visits": len(visits)},
    )
    if fmt == "html":
        return render(
            request,
            "access/register.html",
            {"form": form, "rows": register.rows(visits), "start": start, "end": end},
        )
    if fmt == "pdf":
        content, content_type = (
            register.register_pdf(visits, start=start, end=end),
            "application/pdf",
        )
    else:
        content, content_type = register.register_xlsx(visits, start=start, end=end), XLSX
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="register-{start}-{end}.{fmt}"'
    return response


# --- Loans ---------------------------------------------------------------------------------------
@desk_required
def loan_list(request):
    form = LoanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        record = _one_record(request, data.pop("record"))
        if record is not None:
            try:
                services.lend(actor=request.user, record=record, **data)
            except (ValidationError, PermissionDenied) as exc:
                _errors(request, exc)
            else:
                messages.success(request, _("Loan registered."))
                return redirect("access:loan-list")
    return render(
        request,
        "access/loan_list.html",
        {
            "form": form,
            "loans": selectors.open_loans(request.user).order_by("due_on", "id")[:500],
            "today": timezone.localdate(),
        },
    )


@desk_required
@require_POST
def loan_return(request, pk):
    try:
        loan = selectors.loan_for_desk(request.user, pk)
    except Loan.DoesNotExist:
        raise Http404 from None
    try:
        services.return_loan(actor=request.user, loan=loan)
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("Returned."))
    return redirect("access:loan-list")


# --- Requests ------------------------------------------------------------------------------------
@login_required
def request_list(request):
    """The desk's requests (for desk staff) and one's own requests (for any staff member)."""
    if not request.user.may_read_records:
        raise PermissionDenied(_("Citizens ask for copies on the citizen portal."))
    form = RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        found, _missing = resolve_codes(request.user, [data.pop("record").strip()])
        if not found:
            messages.error(request, _("No such record."))
        else:
            try:
                req = services.submit_request(requester=request.user, record=found[0], **data)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.info(
                    request,
                    _("Request %(n)s: %(state)s")
                    % {"n": req.number, "state": req.get_state_display()},
                )
                return redirect("access:request-list")
    state = request.GET.get("state") or None
    if state not in AccessRequest.State.values:
        state = None
    own = [
        (r, services.delivery_url(access_request=r) if r.is_downloadable else None)
        for r in selectors.requests_of(request.user)[:50]
    ]
    return render(
        request,
        "access/request_list.html",
        {
            "form": form,
            "desk": selectors.is_desk_reader(request.user),
            "requests": selectors.staff_requests(request.user, state=state)[:200],
            "state": state,
            "states": AccessRequest.State.choices,
            "own": own,
        },
    )


@desk_required
def request_detail(request, pk):
    try:
        req = selectors.staff_request(request.user, pk)
    except AccessRequest.DoesNotExist:
        raise Http404 from None
    if request.method == "POST" and request.POST.get("action") == "retry-copy":
        try:
            services.retry_copy(actor=request.user, access_request=req)
        except AccessRequest.DoesNotExist:
            raise Http404 from None
        except (ValidationError, PermissionDenied) as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("The copy is being made again."))
        return redirect("access:request-detail", req.pk)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        decide = {
            "approve": services.approve_request,
            "refuse": services.refuse_request,
        }.get(request.POST.get("decision"))
        if decide is None:
            messages.error(request, _("Approve or refuse."))
        else:
            try:
                decide(actor=request.user, access_request=req, reason=form.cleaned_data["reason"])
            except AccessRequest.DoesNotExist:
                raise Http404 from None
            except (ValidationError, PermissionDenied) as exc:
                _errors(request, exc)
            else:
                return redirect("access:request-detail", req.pk)
    return render(
        request,
        "access/request_detail.html",
        {
            "req": req,
            "form": form,
            "may_decide": services.may_decide(request.user, req),
            "may_retry_copy": services.may_retry_copy(request.user, req),
            **approvals.shown(
                ApprovalFlow.Kind.COPY_REQUEST,
                req,
                waiting=req.state == AccessRequest.State.SUBMITTED,
            ),
            "rule": services.rule_for(req.record),
        },
    )


@login_required
def delivery(request, token):
    """The requester's download of a delivered copy; a link too old says so."""
    try:
        req, stream = services.open_delivery(user=request.user, token=token)
    except signing.SignatureExpired:
        return render(request, "access/link_expired.html", status=410)
    except AccessRequest.DoesNotExist:
        raise Http404 from None
    response = FileResponse(
        stream, content_type="application/pdf", as_attachment=True, filename=f"{req.number}.pdf"
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- Certificates at the desk --------------------------------------------------------------------
@desk_required
@require_POST
def certificate_issue(request):
    """A certified copy issued at the counter (no online request), or a certificate of the
    catalogue entry of a record held on paper only."""
    record = _one_record(request, request.POST.get("record", ""))
    if record is None:
        return redirect("access:home")
    try:
        cert = services.issue_certificate(
            actor=request.user, record=record, entry_only=request.POST.get("entry_only") == "1"
        )
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
        return redirect("access:home")
    return redirect("access:certificate-pdf", cert.pk)


@desk_required
def certificate_list(request):
    """The certificates issued, newest first; a number typed in finds its certificate."""
    certs = selectors.certificates_for_desk(request.user)
    number = request.GET.get("number", "").strip()
    if number:
        certs = certs.filter(number__iexact=number)
    return render(request, "access/certificate_list.html", {"certs": certs[:100], "number": number})


@desk_required
def certificate_detail(request, pk):
    """One certificate; archivists and leaders may revoke it, giving the reason."""
    try:
        cert = selectors.certificate_for_desk(request.user, pk)
    except Certificate.DoesNotExist:
        raise Http404 from None
    may_revoke = services.may_decide_requests(request.user) and cert.revoked_at is None
    if request.method == "POST" and may_revoke:
        try:
            services.revoke_certificate(
                actor=request.user, certificate=cert, reason=request.POST.get("reason", "")
            )
        except (ValidationError, PermissionDenied) as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("The certificate is revoked."))
            return redirect("access:certificate-detail", cert.pk)
    return render(
        request, "access/certificate_detail.html", {"cert": cert, "may_revoke": may_revoke}
    )


@desk_required
def certificate_pdf(request, pk):
    from dangan.content.selectors import open_blob

    try:
        cert = selectors.certificate_for_desk(request.user, pk)
    except Certificate.DoesNotExist:
        raise Http404 from None
    stream = open_blob(cert.blob)  # first: a file that cannot be read was not downloaded
    record_event(
        actor=request.user,
        action=AuditEvent.Action.DOWNLOAD,
        obj=cert.record,
        detail={"certificate": cert.number},
    )
    return FileResponse(
        stream,
        content_type="application/pdf",
        as_attachment=True,
        filename=f"{cert.number}.pdf",
    )


# --- Output of chosen records and pages (输出) --------------------------------------------------
def _output_reader(request):
    if not may_browse_records(request.user):
        raise PermissionDenied(_("Outputs of records are for those who read records."))


def _back_to(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _attachment(data: bytes, *, filename: str, suffix: str) -> FileResponse:
    return FileResponse(
        io.BytesIO(data),
        as_attachment=True,
        filename=f"{filename}{suffix}",
        content_type=CONTENT_TYPES[suffix],
    )


@login_required
@require_POST
def output_records(request):
    """The records ticked on the search page, as a list in Excel or PDF: at once for a few,
    through a background job for many."""
    _output_reader(request)
    ids = request.POST.getlist("record")
    fmt = request.POST.get("format", "")
    back = _back_to(request, reverse("search:search"))
    try:
        if fmt not in outputs.FORMATS:
            raise ValidationError(_("Choose Excel or PDF."), code="bad_format")
        records = services.records_to_output(request.user, ids)
        if len(records) > outputs.AT_ONCE_RECORDS:
            job = start_job(
                kind=f"access.records_{fmt}",
                owner=request.user,
                title=_("List of %(n)s records") % {"n": len(records)},
                params={"records": [r.pk for r in records]},
            )
            return redirect(job.get_absolute_url())
        out = io.BytesIO()
        services.output_records(actor=request.user, record_ids=ids, fmt=fmt, out=out)
    except ValidationError as refused:
        for message in refused.messages:
            messages.error(request, message)
        return redirect(back)
    name = _("records") + timezone.localtime().strftime("-%Y%m%d-%H%M")
    return _attachment(out.getvalue(), filename=name, suffix=f".{fmt}")


@login_required
def choose_pages(request, pk):
    """The pages of one record, to tick and output as one watermarked PDF."""
    _output_reader(request)
    try:
        record, pages = selectors.record_pages_to_choose(request.user, pk)
    except Record.DoesNotExist:
        raise Http404 from None
    chosen = set(request.GET.getlist("page"))
    return render(
        request,
        "access/choose_pages.html",
        {
            "record": record,
            "pages": [(page, str(page.pk) in chosen) for page in pages],
            "refusal": services.copy_refusal(request.user, record),
        },
    )


@login_required
@require_POST
def output_pages(request, pk):
    _output_reader(request)
    ids = request.POST.getlist("page")
    back = reverse("access:choose-pages", args=[pk])
    try:
        record, pages = services.pages_to_output(request.user, pk, ids)
        if len(pages) > outputs.AT_ONCE_PAGES:
            job = start_job(
                kind="access.pages_pdf",
                owner=request.user,
                title=_("%(code)s, %(n)s pages")
                % {"code": services.code_of(record), "n": len(pages)},
                params={"record": record.pk, "pages": [p.pk for p in pages]},
            )
            return redirect(job.get_absolute_url())
        out = io.BytesIO()
        services.output_pages(actor=request.user, record_id=pk, page_ids=ids, out=out)
    except ValidationError as refused:
        for message in refused.messages:
            messages.error(request, message)
        return redirect(back)
    name = _("%(code)s pages") % {"code": services.code_of(record)}
    return _attachment(out.getvalue(), filename=name, suffix=".pdf")
