"""Errors of the API as problem-detail JSON (RFC 9457), with our translated messages.

The services raise Django's ``ValidationError`` and ``PermissionDenied``; here they become 400
and 403 answers. Every message keeps its code (``id_checksum``, ``required_at_filing``, …) so
that a program can act on it, and says where it belongs as a JSON pointer into the request::

    {"type": "about:blank", "title": "Invalid input.", "status": 400, "code": "invalid",
     "errors": [{"pointer": "#/persons/0/id_number", "code": "id_checksum",
                 "detail": "The ID number 110101********1235 has a wrong check digit: …"}]}
"""

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers
from rest_framework.fields import get_error_detail
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"
_WHOLE = {NON_FIELD_ERRORS, api_settings.NON_FIELD_ERRORS_KEY}


def problem_details_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(get_error_detail(exc))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = exception_handler(exc, context)
    if response is None:
        return None
    problem = {
        "type": "about:blank",
        "title": str(getattr(exc, "default_detail", "")),
        "status": response.status_code,
        "code": getattr(exc, "default_code", "error"),
    }
    if isinstance(exc, exceptions.ValidationError):
        problem["errors"] = list(_flatten(exc.detail, "#"))
    else:
        problem["detail"] = str(response.data.get("detail", ""))
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        if isinstance(codes, str):
            problem["code"] = codes
    response.data = problem
    renderer = getattr(context.get("request"), "accepted_renderer", None)
    if getattr(renderer, "format", None) == "json":  # not the HTML of the browsable API
        response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _flatten(detail, pointer):
    """Each message of DRF's nested error detail, with the JSON pointer of its place."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            yield from _flatten(value, pointer if key in _WHOLE else f"{pointer}/{_escape(key)}")
    elif isinstance(detail, list):
        # A list of messages for one place, or (for a list in the request) one entry per item.
        if all(isinstance(item, str) for item in detail):
            for message in detail:
                yield {
                    "pointer": pointer,
                    "code": getattr(message, "code", "invalid"),
                    "detail": str(message),
                }
        else:
            for index, item in enumerate(detail):
                yield from _flatten(item, f"{pointer}/{index}")
    else:
        yield {
            "pointer": pointer,
            "code": getattr(detail, "code", "invalid"),
            "detail": str(detail),
        }


def _escape(key) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


#: What each error answer of the API means, for the OpenAPI description.
PROBLEM_DESCRIPTIONS = {
    400: "Invalid input; `errors` says where and why.",
    401: "No credentials, or credentials not known.",
    403: "Outside your rights.",
    404: "Not found, or not visible to you.",
    409: "In conflict with the current state.",
}


class ProblemErrorSerializer(serializers.Serializer):
    pointer = serializers.CharField(
        help_text=_("JSON pointer to the bad value; “#” for the whole.")
    )
    detail = serializers.CharField()
    code = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """An error, as RFC 9457 problem details."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    code = serializers.CharField()
    detail = serializers.CharField(required=False)
    errors = ProblemErrorSerializer(many=True, required=False)


def problem_responses(*codes: int) -> dict:
    """The OpenAPI answers (drf-spectacular ``extend_schema(responses=…)``) of the problem-detail
    errors an endpoint gives, so that schemathesis can hold every answer to the schema."""
    from drf_spectacular.utils import OpenApiResponse

    return {
        (code, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description=PROBLEM_DESCRIPTIONS[code]
        )
        for code in codes
    }
