"""Pages of the register import (upload → check the column mapping and preview → dry run →
import → outcome; the same service as ``dangan import-catalogue``) and of hand-over lists (the
clerk's drafting and sending, the archive's answer, the check report and receipt register)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dangan.integrity.models import CheckReport
from dangan.integrity.selectors import latest_report, reports_for

from . import handover as handover_services
from . import registers, selectors, services
from .forms import HandoverItemForm, HandoverListForm, MappingForm, PackageForm, UploadForm
from .models import HandoverItem, HandoverList, ImportJob

PREVIEW_ROWS = 10


def _archivist(request):
    if not selectors.may_import_registers(request.user):
        raise PermissionDenied(_("Only archivists import registers."))


def _job(request, pk) -> ImportJob:
    _archivist(request)
    return get_object_or_404(selectors.jobs_for(request.user), pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def import_start(request):
    _archivist(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.receive_upload(
                actor=request.user,
                upload=form.cleaned_data["file"],
                category=form.cleaned_data["category"],
                fonds=form.cleaned_data["fonds"],
            )
        except (ValidationError, PermissionDenied) as exc:
            form.add_error("file", getattr(exc, "messages", None) or str(exc))
        else:
            return redirect("intake:import-mapping", pk=job.pk)
    recent = selectors.jobs_for(request.user)[:10]
    return render(request, "intake/start.html", {"form": form, "recent": recent})


@login_required
@require_http_methods(["GET", "POST"])
def import_mapping(request, pk):
    job = _job(request, pk)
    if services.in_background(job):  # its mapping stays as the worker reads it
        return redirect("intake:import-result", pk=job.pk)
    try:
        register = services.open_register(services.job_path(job), category=job.category)
    except registers.RegisterUnreadable as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("intake:import-start")
    initial = job.mapping or services.suggest_mapping(register, job.category)
    form = MappingForm(
        request.POST or None,
        headers=register.headers,
        category=job.category,
        initial_mapping=initial,
    )
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            services.set_job_mapping(job=job, mapping=form.mapping())
            importing = "import" in request.POST or "move_all" in request.POST
            rows = services.register_rows(job) if importing else 0
            if rows > settings.DANGAN_IMPORT_BACKGROUND_ROWS:
                services.import_in_background(
                    actor=request.user,
                    job=job,
                    rows=rows,
                    confirm_filed=bool(request.POST.get("confirm_filed")),
                    reason=request.POST.get("reason", ""),
                    moves=_moves(request, job),
                )
                return redirect("intake:import-result", pk=job.pk)
            report = services.run_job(
                actor=request.user,
                job=job,
                dry_run=not importing,
                confirm_filed=bool(request.POST.get("confirm_filed")),
                reason=request.POST.get("reason", ""),
                moves=_moves(request, job),
            )
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, getattr(exc, "messages", None) or str(exc))
        else:
            if not report.dry_run:
                return redirect("intake:import-result", pk=job.pk)
    return render(
        request,
        "intake/mapping.html",
        {
            "job": job,
            "form": form,
            "register": register,
            "report": report.as_dict() if report else None,
            "preview": registers.preview(register, PREVIEW_ROWS),
        },
    )


def _moves(request, job) -> dict[int, str]:
    """The rows the archivist moves to the category the dry run proposed for them: ticked one
    by one (``move`` = "row:CODE"), or all at once (``move_all``)."""
    if request.POST.get("move_all"):
        return {p["row"]: p["category"] for p in (job.report or {}).get("proposals", [])}
    moves = {}
    for value in request.POST.getlist("move"):
        row, _colon, code = value.partition(":")
        if row.isdigit() and code:
            moves[int(row)] = code
    return moves


@login_required
def import_result(request, pk):
    """The import's outcome; while the worker imports it (a large register), its progress, and
    the page refreshes by itself."""
    job = _job(request, pk)
    running = services.in_background(job)
    stopped = (
        job.background
        if job.background and job.background.state == "failed" and job.state != "done"
        else None
    )
    return render(
        request,
        "intake/result.html",
        {
            "job": job,
            "report": job.report if job.state == ImportJob.State.DONE else None,
            "running": running,
            "stopped": stopped,
            "progress": job.background if running else None,
        },
    )


@login_required
@require_POST
def import_discard(request, pk):
    job = _job(request, pk)
    if job.state != ImportJob.State.UPLOADED:
        raise PermissionDenied(_("This register has been imported; its record is kept."))
    services.discard_job(job=job)
    messages.success(request, _("The upload was discarded."))
    return redirect("intake:import-start")


# --- Hand-over lists (移交清单) ---------------------------------------------------------------


def _handover(request, pk) -> HandoverList:
    return get_object_or_404(selectors.handover_lists_for(request.user), pk=pk)


def _error_messages(exc) -> list:
    return getattr(exc, "messages", None) or [str(exc)]


@login_required
@require_http_methods(["GET", "POST"])
def handover_lists(request):
    clerk = handover_services.is_clerk(request.user)
    if not handover_services.may_use_handover(request.user):
        raise PermissionDenied(_("Hand-over lists are for unit and town clerks and the archive."))
    form = HandoverListForm(request.POST or None) if clerk else None
    if request.method == "POST" and form is not None and form.is_valid():
        handover = handover_services.create_list(
            actor=request.user,
            fonds=form.cleaned_data["fonds"],
            category=form.cleaned_data["category"],
            title=form.cleaned_data["title"],
        )
        return redirect("intake:handover-detail", pk=handover.pk)
    return render(
        request,
        "intake/handover_lists.html",
        {"lists": selectors.handover_lists_for(request.user)[:200], "form": form, "clerk": clerk},
    )


@login_required
@require_http_methods(["GET", "POST"])
def handover_detail(request, pk):
    handover = _handover(request, pk)
    clerk = handover_services.is_clerk(request.user)
    editable = clerk and handover.state == HandoverList.State.DRAFT
    form = HandoverItemForm(category=handover.category) if editable else None
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "add" and editable:
                form = HandoverItemForm(request.POST, request.FILES, category=handover.category)
                if form.is_valid():
                    handover_services.add_item(
                        actor=request.user,
                        handover=handover,
                        values=form.values(),
                        metadata=form.metadata(),
                        persons=form.persons(),
                        files=form.scans(),
                    )
                    messages.success(request, _("The item was added."))
                    return redirect("intake:handover-detail", pk=handover.pk)
            elif action == "remove" and editable:
                item = get_object_or_404(handover.items, pk=request.POST.get("item"))
                handover_services.remove_item(actor=request.user, item=item)
                return redirect("intake:handover-detail", pk=handover.pk)
            elif action == "send" and editable:
                report = handover_services.submit(actor=request.user, handover=handover)
                messages.success(request, _("The list was sent to the archive."))
                if not report.passed:
                    messages.warning(
                        request, _("The receipt check found problems; see the report.")
                    )
                return redirect("intake:handover-detail", pk=handover.pk)
            elif action == "correct" and clerk:
                corrected = handover_services.new_version(actor=request.user, handover=handover)
                return redirect("intake:handover-detail", pk=corrected.pk)
            elif action == "check" and request.user.may_edit_records:
                handover_services.run_receipt_check(actor=request.user, handover=handover)
                return redirect("intake:handover-detail", pk=handover.pk)
            elif action == "answer" and request.user.may_edit_records:
                answers = {
                    item.pk: (
                        request.POST.get(f"verdict_{item.pk}", ""),
                        request.POST.get(f"reason_{item.pk}", ""),
                    )
                    for item in handover.items.all()
                    if request.POST.get(f"verdict_{item.pk}")
                }
                records = handover_services.answer(
                    actor=request.user, handover=handover, answers=answers
                )
                messages.success(
                    request,
                    _("The answer was recorded; %(n)d record(s) filed.") % {"n": len(records)},
                )
                return redirect("intake:handover-detail", pk=handover.pk)
            else:
                raise PermissionDenied(_("That cannot be done to this list."))
        except ValidationError as exc:
            for message in _error_messages(exc):
                messages.error(request, message)
    return render(
        request,
        "intake/handover_detail.html",
        {
            "handover": handover,
            "items": selectors.handover_items(
                handover, with_proposals=request.user.may_edit_records
            ),
            "history": selectors.handover_history(handover),
            "report": latest_report(handover_services.SUBJECT_TYPE, handover.pk),
            "form": form,
            "clerk": clerk,
            "editable": editable,
            "answering": request.user.may_edit_records
            and handover.state == HandoverList.State.SENT,
            "correctable": clerk
            and handover.state == HandoverList.State.ANSWERED
            and not handover.next_versions.exists()
            and handover.items.filter(decision__verdict="returned").exists(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def handover_item(request, pk, item_pk):
    handover = _handover(request, pk)
    item = get_object_or_404(HandoverItem, handover=handover, pk=item_pk)
    if not handover_services.is_clerk(request.user) or handover.state != HandoverList.State.DRAFT:
        raise PermissionDenied(_("This list has been sent; it can no longer change."))
    form = HandoverItemForm(
        request.POST or None, request.FILES or None, category=handover.category, item=item
    )
    if request.method == "POST" and form.is_valid():
        try:
            handover_services.update_item(
                actor=request.user,
                item=item,
                values=form.values(),
                metadata=form.metadata(),
                persons=form.persons(),
                files=form.scans(),
            )
        except ValidationError as exc:
            form.add_error(None, _error_messages(exc))
        else:
            messages.success(request, _("The item was corrected."))
            return redirect("intake:handover-detail", pk=handover.pk)
    page_help = selectors.item_page_help(item)
    for name, values in page_help["fields"].items():
        form.fields[name].suggestions = values  # beside the field, taken with a click
    return render(
        request,
        "intake/handover_item.html",
        {"handover": handover, "item": item, "form": form, "page_help": page_help},
    )


def _report(request, handover) -> CheckReport:
    reports = reports_for(handover_services.SUBJECT_TYPE, handover.pk)
    if request.GET.get("report"):
        return get_object_or_404(reports, pk=request.GET["report"])
    report = reports.first()
    if report is None:
        raise Http404(_("This list has not been checked yet."))
    return report


@login_required
def handover_report(request, pk):
    handover = _handover(request, pk)
    report = _report(request, handover)
    return render(
        request,
        "integrity/report.html",
        {
            "report": report,
            "results": report.results.all(),
            "subject": handover,
            "reports": reports_for(handover_services.SUBJECT_TYPE, handover.pk),
        },
    )


@login_required
def handover_register(request, pk):
    """电子文件归档登记表: the receipt register of one list, to print and sign."""
    handover = _handover(request, pk)
    report = _report(request, handover)
    return render(
        request,
        "integrity/register.html",
        {
            "handover": handover,
            "report": report,
            "results": report.results.all(),
            "items": selectors.handover_items(
                handover, with_proposals=request.user.may_edit_records
            ),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def package_receive(request):
    """The web form of ``dangan package receive``: verify a package, file it as a sent list."""
    from . import packages

    if not request.user.may_edit_records:
        raise PermissionDenied(_("Only the archive receives packages."))
    form = PackageForm(request.POST or None, request.FILES or None)
    outcome = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["package"]
        path = getattr(upload, "temporary_file_path", lambda: None)()
        try:
            outcome = packages.receive_package(
                actor=request.user, source=path or upload, file_it=True
            )
        except ValidationError as exc:
            form.add_error("package", _error_messages(exc))
        else:
            if outcome.handover is not None:
                messages.success(request, _("The package passed its checks and was received."))
                return redirect("intake:handover-detail", pk=outcome.handover.pk)
    return render(
        request,
        "intake/package_receive.html",
        {"form": form, "outcome": outcome},
    )
