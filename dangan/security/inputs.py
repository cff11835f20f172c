"""Input no field may hold: a NUL character in the address or the query string. PostgreSQL
refuses NUL in text, so a lookup with one would end in a server error; Django's and DRF's
form fields refuse it in bodies already. Answered 400 before any view runs."""

from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _


class NulCharacterMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            message = _("The request holds a NUL character, which no field may contain.")
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"type": "about:blank", "title": message, "status": 400, "code": "invalid"},
                    status=400,
                    content_type="application/problem+json",
                    json_dumps_params={"ensure_ascii": False},
                )
            return HttpResponseBadRequest(message)
        return self.get_response(request)
