"""A ceiling on the size of any request body (``DANGAN_MAX_UPLOAD_BYTES``), checked from the
Content-Length before a byte is read, so that nobody fills the disk with one upload. What a file
is, is decided by its content afterwards (``content.formats``)."""

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _


class UploadSizeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.DANGAN_MAX_UPLOAD_BYTES
        if length > limit:
            return HttpResponse(
                _("The upload is larger than %(mb)d MB, the most this archive accepts at once.")
                % {"mb": limit // (1024 * 1024)},
                status=413,
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)
