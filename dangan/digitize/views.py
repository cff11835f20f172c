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
from dangan.catalogue import selectors as catalogue_selectors
from dangan.catalogue.forms import RecordForm
from dangan.content.models import Page

from . import selectors, services
from .ingest import attach_folder, catalogue_folder, start_batch
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
            "unnamed": selectors.unnamed_folders(request.user, batch),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def unnamed_folder(request, pk, index):
    """A folder of the batch that matches no record: what its first page says, beside the form
    of a new record for it (taken field by field or all at once), the category the classifier
    proposes, and the records of a person the page names (attach the folder to one of them)."""
    if not selectors.may_bring_in_scans(request.user):
        raise PermissionDenied(_("Only archivists bring in scans."))
    batch = get_object_or_404(selectors.recent_batches(request.user, limit=None), pk=pk)
    folders = selectors.unnamed_folders(request.user, batch)
    if not 0 <= index < len(folders):
        raise Http404(_("No such folder."))
    folder = folders[index]
    if request.method == "POST" and request.POST.get("record"):
        record = get_object_or_404(
            catalogue_selectors.visible_records(request.user), pk=request.POST["record"]
        )
        if not may_write_record(request.user, record):
            raise PermissionDenied(_("You may not change this record."))
        try:
            attach_folder(actor=request.user, batch=batch, name=folder["name"], record=record)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("The folder's pages were attached to %(record)s.")
                % {"record": record.archival_code or record.legacy_number or record.title},
            )
        return redirect("digitize:batch-detail", pk=batch.pk)
    categories = catalogue_selectors.granted_categories(request.user).filter(children__isnull=True)
    fonds_choices = catalogue_selectors.granted_fonds(request.user)
    chosen = request.GET.get("category")
    category = get_object_or_404(categories, code=chosen) if chosen else None
    fonds = (
        get_object_or_404(fonds_choices, code=request.GET["fonds"])
        if request.GET.get("fonds")
        else fonds_choices.order_by("code").first()
    )
    form = None
    if category and fonds and request.user.may_edit_records and not folder["done"]:
        form = RecordForm(request.POST or None, category=category)
        for name, values in folder["suggestions"].items():
            if name in form.fields:  # beside the field, taken with a click (assist/suggest.js)
                form.fields[name].suggestions = values
        proposal = folder["proposal"]
        if proposal and proposal["category"] == category.code and proposal.get("retention"):
            form.fields["retention"].suggestions = [proposal["retention"]]
        if request.method == "POST" and form.is_valid():
            try:
                record = catalogue_folder(
                    actor=request.user,
                    batch=batch,
                    name=folder["name"],
                    fonds=fonds,
                    category=category,
                    values=form.values(),
                    metadata=form.metadata(),
                    entries=form.cleaned_data["persons"] or [],
                    file=form.cleaned_data.get("file", False),
                )
            except (ValidationError, PermissionDenied) as error:
                if isinstance(error, ValidationError):
                    form.add_service_errors(error)
                else:
                    form.add_error(None, str(error))
            else:
                messages.success(request, _("The folder was catalogued and its pages attached."))
                return redirect("catalogue:record-detail", pk=record.pk)
    return render(
        request,
        "digitize/unnamed_folder.html",
        {
            "batch": batch,
            "folder": folder,
            "index": index,
            "form": form,
            "category": category,
            "fonds": fonds,
            "categories": categories.order_by("position", "code"),
            "fonds_choices": fonds_choices.order_by("code"),
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
