"""A kept file that cannot be read answers its reader with a clear page, not a server error.

``content.selectors.open_blob`` raises ``BlobUnreadable`` after raising the storage alert; every
view that hands out a file (a page, a derivative, a certified copy, an export) goes through it,
so this one place answers them all: a page for people, problem-detail JSON under /api/.
"""

from django.shortcuts import render
from django.utils.translation import gettext as _

from dangan.security.errorpages import problem

from .selectors import BlobUnreadable

STATUS = 503  # the file may be served again once it is restored


class UnreadableBlobMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, BlobUnreadable):
            return None
        if request.path.startswith("/api/"):
            return problem(STATUS, "blob_unreadable", str(exception))
        return render(
            request,
            "content/unreadable.html",
            {"title": _("This file cannot be read"), "message": str(exception)},
            status=STATUS,
        )
