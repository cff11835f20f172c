"""归档接口 on /api/v1/: a registered business system files records by itself, with its key.

* ``POST filings/`` (multipart): ``sender_id`` — the system's own id of the record —,
  ``record`` (JSON: fonds, category, the record's fields, ``metadata``, ``persons``),
  ``process`` (JSON: the 办理过程, ``[{"step", "who", "when", "what"}, …]``), ``files`` and, for
  each file in order, an optional ``sha256``. The filing waits in the pre-archive queue; the
  same ``sender_id`` with the same content answers the same filing (200), with other content
  it is refused (409).
* ``GET filings/<sender_id>/`` — its state (``waiting``, ``accepted``, ``returned``), the
  reason of a return, the archival code once accepted and the checks' verdict.

The caller is the system, not a person: ``Authorization: Bearer <key>`` (``dangan senders``).
The services are ``intake.filings``; mounted in the "api" namespace by ``dangan/api/urls.py``.
"""

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from rest_framework import authentication, exceptions, serializers, status
from rest_framework.exceptions import APIException, ErrorDetail, NotFound
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from dangan.core.problems import problem_responses

from . import filings
from .models import Filing, Sender


class SenderKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <key>``: the registered sending system whose key it is."""

    keyword = "Bearer"

    def authenticate(self, request):
        words = authentication.get_authorization_header(request).split()
        if not words or words[0].decode(errors="replace") != self.keyword:
            return None
        if len(words) != 2:
            raise exceptions.AuthenticationFailed(_("Give the key after “Bearer”."))
        sender = filings.sender_for_key(words[1].decode(errors="replace"))
        if sender is None:
            raise exceptions.AuthenticationFailed(_("This key is not known."))
        if not sender.active:
            raise SenderDisabled(_("This sending system is disabled."))
        return AnonymousUser(), sender

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class SenderKeyScheme(OpenApiAuthenticationExtension):
    target_class = "dangan.intake.filing_api.SenderKeyAuthentication"
    name = "senderKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The key of a registered sending system (`dangan senders add`).",
        }


class IsSender(BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, Sender)


class SenderDisabled(exceptions.PermissionDenied):
    default_code = "sender_disabled"
    default_detail = "This sending system is disabled."


class FilingConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "filing_conflict"
    default_detail = "This id was filed before with other content."


class FilingInSerializer(serializers.Serializer):
    sender_id = serializers.CharField(max_length=100, help_text="The sending system's own id.")
    record = serializers.JSONField(
        help_text="The record: fonds, category, title, date, … , metadata, persons."
    )
    process = serializers.JSONField(
        required=False,
        help_text="办理过程: a list of steps {step, who, when (ISO date/time), what}.",
    )
    files = serializers.ListField(child=serializers.FileField(), required=False)
    sha256 = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        help_text="The SHA-256 (hex) the sender computed of each file, in order.",
    )


class FilingFileSerializer(serializers.Serializer):
    filename = serializers.CharField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    format = serializers.CharField()


class FilingChecksSerializer(serializers.Serializer):
    passed = serializers.BooleanField()
    failed = serializers.ListField(child=serializers.CharField())


class FilingOutSerializer(serializers.Serializer):
    sender_id = serializers.CharField()
    created = serializers.BooleanField(required=False)
    state = serializers.ChoiceField(choices=Filing.State.values)
    reason = serializers.CharField(allow_blank=True)
    received_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    archival_code = serializers.CharField(allow_null=True)
    files = FilingFileSerializer(many=True)
    checks = FilingChecksSerializer(allow_null=True)


def filing_data(filing: Filing) -> dict:
    report = filings.latest_check(filing)
    return {
        "sender_id": filing.external_id,
        "state": filing.state,
        "reason": filing.reason,
        "received_at": filing.received_at,
        "answered_at": filing.decided_at,
        "archival_code": filing.record.archival_code if filing.record_id else None,
        "files": [
            {
                "filename": f.filename,
                "sha256": f.blob.sha256,
                "size": f.blob.size,
                "format": f.blob.format_label,
            }
            for f in filing.files.select_related("blob").order_by("position")
        ],
        "checks": None
        if report is None
        else {
            "passed": report.passed,
            "failed": report.failed_ids,
        },
    }


def _nested(error: ValidationError) -> dict:
    """The service's errors keyed by places (``record/metadata/x``) as DRF's nested detail, so
    that each becomes a problem entry with its JSON pointer (``#/record/metadata/x``)."""
    detail: dict = {}
    for place, problems in error.error_dict.items():
        node = detail
        *parents, leaf = place.split("/")
        for part in parents:
            node = node.setdefault(part, {})
        target = node.setdefault(leaf, [])
        if isinstance(target, dict):  # a message for a place that also has parts
            target = target.setdefault("", [])
        for problem in problems:
            for message in problem.messages:
                target.append(ErrorDetail(message, code=problem.code or "invalid"))
    return detail


class SenderView(APIView):
    authentication_classes = [SenderKeyAuthentication]
    permission_classes = [IsSender]


class FilingListView(SenderView):
    """A sending system files one record into the pre-archive queue."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="File a record with its files and 办理过程 (idempotent by the sender's id)",
        request={"multipart/form-data": FilingInSerializer},
        responses={
            201: FilingOutSerializer,
            200: FilingOutSerializer,
            **problem_responses(400, 401, 403, 409),
        },
    )
    def post(self, request):
        body = FilingInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        files = [(f.name, f) for f in request.FILES.getlist("files")]
        declared = request.data.getlist("sha256") if hasattr(request.data, "getlist") else []
        try:
            filing, created = filings.post_filing(
                sender=request.auth,
                external_id=body.validated_data["sender_id"],
                record=body.validated_data["record"],
                process=body.validated_data.get("process", []),
                files=files,
                declared=declared,
            )
        except filings.FilingConflict as error:
            raise FilingConflict(error.messages[0]) from None
        except PermissionDenied as error:
            raise SenderDisabled(str(error)) from None
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                raise ApiValidationError(_nested(error)) from None
            refused = [
                ErrorDetail(message, code=e.code or "invalid")
                for e in error.error_list
                for message in e.messages
            ]
            raise ApiValidationError({"files": refused}) from None
        answer = {"created": created, **filing_data(filing)}
        return Response(answer, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class FilingDetailView(SenderView):
    @extend_schema(
        summary="A filing's state, by the sender's own id",
        responses={200: FilingOutSerializer, **problem_responses(401, 403, 404)},
    )
    def get(self, request, sender_id):
        filing = (
            Filing.objects.select_related("record")
            .filter(sender=request.auth, external_id=sender_id)
            .first()
        )
        if filing is None:
            raise NotFound(_("No filing with this id."))
        return Response(filing_data(filing))


urlpatterns = [
    path("filings/", FilingListView.as_view(), name="filing-list"),
    path("filings/<str:sender_id>/", FilingDetailView.as_view(), name="filing-detail"),
]
