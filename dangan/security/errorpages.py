"""The answers to a request Dangan cannot serve: a page for people, problem-detail JSON for the
API (a URL under /api/ that matches no endpoint still answers in the API's media type), never a
stack trace or a detail of the request. Installed as ``handler404`` / ``handler500``."""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem(status: int, code: str, title: str) -> JsonResponse:
    return JsonResponse(
        {"type": "about:blank", "title": title, "status": status, "code": code, "detail": title},
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )


def page_not_found(request, exception):
    if request.path.startswith("/api/"):
        return problem(404, "not_found", _("Not found."))
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return problem(500, "error", _("Server error."))
    return defaults.server_error(request)
