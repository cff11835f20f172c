"""The record's files: the page with the upload widget, upload, page order, download.

Thin: each view parses the request, calls one service or selector, and answers with HTML (or
JSON, for the upload widget's XMLHttpRequest, which asks with ``Accept: application/json``).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dangan.catalogue.models import Record
from dangan.catalogue.selectors import read_record, record_for_edit

from . import selectors, services
from .models import Page

#: Formats a browser may show inline; everything else is always a download.
INLINE_MIMES = {
    "application/pdf",
    "image/jpeg",
    "image/png",
    "audio/mpeg",
    "audio/wav",
    "video/mp4",
}


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _record_for_edit(request, pk) -> Record:
    try:
        return record_for_edit(request.user, pk)
    except Record.DoesNotExist:
        raise Http404 from None


def _back(request, record):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect("content:record-files", pk=record.pk)


def page_json(page: Page) -> dict:
    return {
        "id": page.pk,
        "position": page.position,
        "filename": page.filename,
        "size": page.blob.size,
        "format": page.blob.format_label,
        "mime": page.blob.mime,
        "sha256": page.blob.sha256,
        "sm3": page.blob.sm3 or None,  # None until computed, a moment after the upload
        "download_url": reverse("content:page-download", args=[page.pk]),
    }


@login_required
@require_GET
def record_files(request, pk):
    try:
        record = read_record(request.user, pk)
    except Record.DoesNotExist:
        raise Http404 from None
    return render(request, "content/record_files_page.html", {"record": record})


@login_required
@require_POST
def upload(request, pk):
    record = _record_for_edit(request, pk)
    files = request.FILES.getlist("files")
    try:
        pages = services.add_files(
            actor=request.user, record=record, files=[(f.name, f) for f in files]
        )
    except (ValidationError, PermissionDenied) as error:
        return _refused(request, record, error)
    if _wants_json(request):
        return JsonResponse({"pages": [page_json(page) for page in pages]}, status=201)
    messages.success(request, _("%(count)d file(s) added.") % {"count": len(pages)})
    return _back(request, record)


@login_required
@require_POST
def reorder(request, pk):
    record = _record_for_edit(request, pk)
    try:
        if "order" in request.POST:
            order = [int(pk) for pk in request.POST["order"].split(",") if pk.strip()]
            services.reorder_pages(actor=request.user, record=record, order=order)
        else:
            offset = -1 if request.POST.get("move") == "up" else 1
            services.move_page(
                actor=request.user,
                record=record,
                page_id=int(request.POST.get("page", 0)),
                offset=offset,
            )
    except ValueError:
        return _refused(request, record, ValidationError(_("Invalid page order."), code="invalid"))
    except (ValidationError, PermissionDenied) as error:
        return _refused(request, record, error)
    if _wants_json(request):
        pages = selectors.record_pages(request.user, record)
        return JsonResponse({"pages": [page_json(page) for page in pages]})
    messages.success(request, _("Page order saved."))
    return _back(request, record)


def _refused(request, record, error):
    status = 403 if isinstance(error, PermissionDenied) else 400
    texts = [str(error)] if status == 403 else list(error.messages)
    if _wants_json(request):
        return JsonResponse({"errors": texts}, status=status)
    if status == 403:
        raise error
    for text in texts:
        messages.error(request, text)
    return _back(request, record)


@login_required
@require_GET
def download(request, pk):
    try:
        page, stream = selectors.download_page(request.user, pk)
    except Page.DoesNotExist:
        raise Http404 from None
    inline = request.GET.get("inline") == "1" and page.blob.mime in INLINE_MIMES
    response = FileResponse(
        stream, as_attachment=not inline, filename=page.filename, content_type=page.blob.mime
    )
    response.block_size = 1024 * 1024
    response["Content-Length"] = str(page.blob.size)
    response["ETag"] = f'"{page.blob.sha256}"'
    response["Content-Security-Policy"] = "sandbox"
    return response
