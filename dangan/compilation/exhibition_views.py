"""The public exhibitions at ``/exhibitions/``: no log-in, phone first, in the visitor's
language. Each page and each image asks again whether its records are open now."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from dangan.content.selectors import open_blob

from . import public, selectors, services
from .models import Exhibit, Exhibition
from .watermark import watermarked


@require_http_methods(["GET"])
def exhibition_list(request):
    return render(request, "compilation/exhibitions.html", {"exhibitions": public.shown_list()})


@never_cache
@require_http_methods(["GET"])
def exhibition_page(request, slug):
    try:
        exhibition = selectors.public_exhibition(slug)
    except Exhibition.DoesNotExist:
        raise Http404 from None
    services.count_visit(exhibition)
    return render(
        request,
        "compilation/exhibition.html",
        {"exhibition": public.shown_exhibition(exhibition)},
    )


@never_cache
@require_http_methods(["GET"])
def exhibit_image(request, slug, pk):
    """The shown page of one exhibit: its preview derivative with the archive's watermark."""
    try:
        exhibition = selectors.public_exhibition(slug)
        exhibit = selectors.shown_exhibits(exhibition).get(pk=pk)
    except (Exhibition.DoesNotExist, Exhibit.DoesNotExist):
        raise Http404 from None
    preview = selectors.exhibit_preview(exhibit)
    if preview is None:
        raise Http404
    stream = open_blob(preview)
    try:
        data = stream.read()
    finally:
        stream.close()
    return HttpResponse(watermarked(data), content_type="image/jpeg")
