"""Pages of digitization: scan batches from the scanning folder, and the page viewer."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dangan.accounts.selectors import may_write_record
from dangan.content.models import Page

from . import selectors, services
from .ingest import start_batch
from .models import PageProcessing
from .tasks import ingest_folder_task


def _scan_folders() -> list[str]:
    root = settings.DANGAN_SCAN_ROOT
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.is_symlink())


@login_required
@require_http_methods(["GET", "POST"])
def batch_list(request):
    if not selectors.may_bring_in_scans(request.user):
        raise PermissionDenied(_("Only archivists bring in scans."))
    if request.method == "POST":
        name = request.POST.get("folder", "")
        if name not in _scan_folders():
            messages.error(request, _("Choose one of the folders of the scanning station."))
            return redirect("digitize:batch-list")
        try:
            batch = start_batch(actor=request.user, folder=settings.DANGAN_SCAN_ROOT / name)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("digitize:batch-list")
        ingest_folder_task.enqueue(batch.pk)
        return redirect("digitize:batch-detail", pk=batch.pk)
    return render(
        request,
        "digitize/batch_list.html",
        {
            "folders": _scan_folders(),
            "scan_root": settings.DANGAN_SCAN_ROOT,
            "batches": selectors.recent_batches(request.user),
        },
    )


@login_required
def batch_detail(request, pk):
    batch = get_object_or_404(selectors.recent_batches(request.user, limit=None), pk=pk)
    progress = selectors.batch_progress(batch)
    failed = PageProcessing.objects.filter(
        batch=batch, state=PageProcessing.State.FAILED
    ).select_related("page__record")
    # A page showing an ID number that no person of its record has: a file in the wrong folder?
    mismatched = PageProcessing.objects.filter(
        batch=batch, suggestions__id_mismatch=True
    ).select_related("page__record")
    return render(
        request,
        "digitize/batch_detail.html",
        {
            "batch": batch,
            "progress": progress,
            "report": batch.report,
            "failed": failed,
            "mismatched": mismatched[:500],
        },
    )


@login_required
def page_view(request, pk):
    try:
        page, previous, following = selectors.page_for_viewer(request.user, pk)
    except Page.DoesNotExist:
        raise Http404(_("No such page.")) from None
    return render(
        request,
        "digitize/page_view.html",
        {
            "page": page,
            "processing": getattr(page, "processing", None),
            "previous": previous,
            "following": following,
            "may_edit": may_write_record(request.user, page.record),
        },
    )


@login_required
def page_derivative(request, pk, kind):
    if kind not in selectors.DERIVATIVES:
        raise Http404
    try:
        blob, stream = selectors.open_derivative(request.user, pk, kind)
    except PageProcessing.DoesNotExist:
        raise Http404(_("Not made yet.")) from None
    response = FileResponse(
        stream,
        content_type=blob.mime,
        as_attachment=kind == "pdf",
        filename=f"page-{pk}.pdf" if kind == "pdf" else None,
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_POST
def page_retry(request, pk):
    try:
        page, _previous, _following = selectors.page_for_viewer(request.user, pk)
    except Page.DoesNotExist:
        raise Http404(_("No such page.")) from None
    if not may_write_record(request.user, page.record):
        raise PermissionDenied(_("You may not change this record."))
    services.retry_failed(pages=[page])
    messages.success(request, _("The page will be read again."))
    return redirect("digitize:page-view", pk=page.pk)
