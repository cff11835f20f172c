"""The hand-over endpoints of /api/v1/, for business systems and town platforms.

* ``GET/POST handovers/`` — the lists the caller may see; a clerk's system submits a list with
  its items and files in one request: multipart with a ``list`` part (JSON) and the files, or
  JSON alone naming completed resumable uploads. ``"send": true`` sends it at once (the receipt
  check runs and its report comes back).
* ``GET handovers/<id>/`` — the list, its items, the archive's answers, the latest report.
* ``uploads/`` and ``uploads/<uuid>/`` — resumable uploads, tus 1.0 core with the creation and
  checksum extensions (see ``intake/uploads.py``).

Mounted in the "api" namespace by ``dangan/api/urls.py`` (``*intake_api.urlpatterns``).
"""

import base64
import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.parsers import BaseParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from dangan.catalogue.models import Category, Fonds
from dangan.content.services import audit_refusals
from dangan.core.problems import problem_responses
from dangan.integrity.selectors import latest_report

from . import handover as services
from . import selectors, uploads
from .models import HandoverList, Upload

TUS_VERSION = "1.0.0"


class ItemFileSerializer(serializers.Serializer):
    upload = serializers.UUIDField(required=False, help_text="id of a completed resumable upload")
    field = serializers.CharField(required=False, help_text="name of the multipart file part")
    filename = serializers.CharField(required=False)
    sha256 = serializers.CharField(required=False, help_text="SHA-256 (hex) the sender computed")


class ItemSerializer(serializers.Serializer):
    values = serializers.DictField()
    metadata = serializers.DictField(required=False, default=dict)
    persons = serializers.ListField(child=serializers.DictField(), required=False, default=list)
    files = ItemFileSerializer(many=True, required=False, default=list)


class HandoverInSerializer(serializers.Serializer):
    fonds = serializers.CharField()
    category = serializers.CharField()
    title = serializers.CharField()
    items = ItemSerializer(many=True)
    send = serializers.BooleanField(default=False)
    declared_items = serializers.IntegerField(required=False)
    declared_bytes = serializers.IntegerField(required=False)


def _list_data(handover: HandoverList, request) -> dict:
    report = latest_report(services.SUBJECT_TYPE, handover.pk)
    items = []
    for item in selectors.handover_items(handover):
        decision = getattr(item, "decision", None)
        items.append(
            {
                "position": item.position,
                "values": item.values,
                "metadata": item.metadata,
                "files": [
                    {
                        "filename": f.filename,
                        "page": f.position,
                        "sha256": f.blob.sha256,
                        "sm3": f.blob.sm3 or None,  # None until computed
                        "size": f.blob.size,
                    }
                    for f in item.staged
                ],
                "answer": decision.verdict if decision else None,
                "reason": decision.reason if decision else "",
                "archival_code": item.record.archival_code if item.record else None,
            }
        )
    return {
        "id": handover.pk,
        "uid": str(handover.uid),
        "title": handover.title,
        "unit": handover.unit.code,
        "fonds": handover.fonds.code,
        "category": handover.category.code,
        "version": handover.version,
        "previous": handover.previous_id,
        "state": handover.state,
        "sent_at": handover.sent_at,
        "items": items,
        "report": None
        if report is None
        else {
            "id": report.pk,
            "passed": report.passed,
            "checks": [
                {
                    "id": r.check_id,
                    "verdict": r.verdict,
                    "summary": r.summary,
                    "evidence": r.evidence,
                }
                for r in report.results.all()
            ],
        },
    }


class HandoverSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    unit = serializers.CharField()
    version = serializers.IntegerField()
    state = serializers.CharField()


class HandoverListView(APIView):
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(responses={200: HandoverSummarySerializer(many=True)})
    def get(self, request):
        lists = selectors.handover_lists_for(request.user)[:200]
        return Response(
            [
                {
                    "id": h.pk,
                    "title": h.title,
                    "unit": h.unit.code,
                    "version": h.version,
                    "state": h.state,
                }
                for h in lists
            ]
        )

    @extend_schema(
        request={
            "application/json": HandoverInSerializer,
            "multipart/form-data": OpenApiTypes.OBJECT,
        },
        responses={
            201: OpenApiResponse(OpenApiTypes.OBJECT, description="The list as stored."),
            **problem_responses(400, 403),
        },
    )
    def post(self, request):
        raw = request.data.get("list") if "list" in request.data else request.data
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                raise ApiValidationError({"list": "not JSON"}) from None
        incoming = HandoverInSerializer(data=raw)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            fonds = Fonds.objects.get(code=data["fonds"])
            category = Category.objects.get(code=data["category"])
        except (Fonds.DoesNotExist, Category.DoesNotExist):
            raise ApiValidationError({"category": "unknown fonds or category"}) from None
        try:
            handover = self._create(request, data, fonds, category)
        except ValidationError as error:  # the transaction rolled its audit entries back
            audit_refusals(request.user, error)
            raise
        return Response(_list_data(handover, request), status=status.HTTP_201_CREATED)

    @staticmethod
    def _create(request, data, fonds, category):
        with transaction.atomic():
            handover = services.create_list(
                actor=request.user, fonds=fonds, category=category, title=data["title"]
            )
            for item in data["items"]:
                staged = []  # in the item's order: parts to store, uploads already stored
                for f in item["files"]:
                    if f.get("upload"):
                        try:
                            upload = uploads.own_upload(request.user, f["upload"])
                        except Upload.DoesNotExist:
                            raise ApiValidationError({"upload": str(f["upload"])}) from None
                        if upload.blob is None:
                            raise ApiValidationError({"upload": "not complete"})
                        staged.append(
                            (f.get("filename") or upload.filename, upload.blob, upload.sha256)
                        )
                    else:
                        part = request.FILES.get(f.get("field", ""))
                        if part is None:
                            raise ApiValidationError({"files": f"no part {f.get('field')!r}"})
                        staged.append((f.get("filename") or part.name, part, f.get("sha256")))
                services.add_item(
                    actor=request.user,
                    handover=handover,
                    values=item["values"],
                    metadata=item["metadata"],
                    persons=item["persons"],
                    files=staged,
                )
        if data["send"]:
            services.submit(
                actor=request.user,
                handover=handover,
                declared_items=data.get("declared_items"),
                declared_bytes=data.get("declared_bytes"),
            )
            handover.refresh_from_db()
        return handover


class HandoverDetailView(APIView):
    @extend_schema(
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="The list and its answers."),
            **problem_responses(404),
        }
    )
    def get(self, request, pk):
        try:
            handover = selectors.handover_lists_for(request.user).get(pk=pk)
        except HandoverList.DoesNotExist:
            raise NotFound() from None
        return Response(_list_data(handover, request))


# --- tus 1.0 -------------------------------------------------------------------------------------
class OctetStreamParser(BaseParser):
    media_type = "application/offset+octet-stream"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read() if stream is not None else b""


def _tus(response, **headers):
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response[name.replace("_", "-")] = str(value)
    return response


def _metadata(header: str) -> dict:
    values = {}
    for pair in (header or "").split(","):
        key, _sep, value = pair.strip().partition(" ")
        if key:
            try:
                values[key] = base64.b64decode(value).decode() if value else ""
            except ValueError:
                values[key] = ""
    return values


class UploadCreateView(APIView):
    def options(self, request, *args, **kwargs):
        return _tus(
            HttpResponse(status=204),
            Tus_Version=TUS_VERSION,
            Tus_Extension="creation,checksum",
            Tus_Checksum_Algorithm="sha256",
            Tus_Max_Size=uploads.settings.DANGAN_MAX_UPLOAD_BYTES,
        )

    @extend_schema(
        request=None,
        responses={
            201: OpenApiResponse(description="Created; `Location` names the upload."),
            **problem_responses(400, 403),
        },
    )
    def post(self, request):
        if not services.is_clerk(request.user):
            raise PermissionDenied("Only unit and town clerks upload for hand-over.")
        meta = _metadata(request.headers.get("Upload-Metadata", ""))
        try:
            length = int(request.headers.get("Upload-Length", ""))
        except ValueError:
            raise ApiValidationError({"Upload-Length": "required"}) from None
        upload = uploads.create_upload(
            actor=request.user,
            filename=meta.get("filename", "file"),
            length=length,
            sha256=meta.get("sha256", ""),
        )
        location = request.build_absolute_uri(reverse("api:upload", args=[upload.uid]))
        return _tus(HttpResponse(status=201), Location=location, Upload_Offset=0)


class UploadView(APIView):
    parser_classes = [OctetStreamParser]

    def _upload(self, request, uid):
        try:
            return uploads.own_upload(request.user, uid)
        except Upload.DoesNotExist:
            raise NotFound() from None

    def head(self, request, uid):
        upload = self._upload(request, uid)
        return _tus(
            HttpResponse(status=200), Upload_Offset=upload.offset, Upload_Length=upload.length
        )

    @extend_schema(
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="How far the upload is."),
            **problem_responses(404),
        }
    )
    def get(self, request, uid):
        upload = self._upload(request, uid)
        return _tus(
            Response(
                {
                    "offset": upload.offset,
                    "length": upload.length,
                    "complete": upload.blob_id is not None,
                    "sha256": upload.blob.sha256 if upload.blob else None,
                    "sm3": (upload.blob.sm3 or None) if upload.blob else None,
                }
            )
        )

    @extend_schema(
        request={OctetStreamParser.media_type: OpenApiTypes.BINARY},
        responses={
            204: OpenApiResponse(description="Appended; `Upload-Offset` says how far."),
            **problem_responses(400, 403, 404),
            (409, "text/plain"): OpenApiResponse(
                OpenApiTypes.STR, description="Wrong `Upload-Offset`; the header has the right one."
            ),
            415: OpenApiResponse(description="Not application/offset+octet-stream."),
            (460, "text/plain"): OpenApiResponse(
                OpenApiTypes.STR, description="`Upload-Checksum` does not match the bytes."
            ),
        },
    )
    def patch(self, request, uid):
        upload = self._upload(request, uid)
        if request.content_type != OctetStreamParser.media_type:
            return _tus(HttpResponse(status=415))
        try:
            offset = int(request.headers.get("Upload-Offset", ""))
        except ValueError:
            raise ApiValidationError({"Upload-Offset": "required"}) from None
        data = request.data if isinstance(request.data, bytes) else b""
        try:
            upload = uploads.append_chunk(
                actor=request.user,
                upload=upload,
                offset=offset,
                data=data,
                checksum=request.headers.get("Upload-Checksum"),
            )
        except uploads.ChecksumMismatch as error:
            return _tus(
                HttpResponse(" ".join(error.messages), status=460, content_type="text/plain")
            )
        except uploads.OffsetConflict as error:
            upload.refresh_from_db()
            return _tus(
                HttpResponse(" ".join(error.messages), status=409, content_type="text/plain"),
                Upload_Offset=upload.offset,
            )
        except ValidationError:
            raise
        headers = {"Upload_Offset": upload.offset}
        if upload.blob_id:
            headers["Dangan_Sha256"] = upload.blob.sha256
            if upload.blob.sm3:  # computed a moment later; GET tells it then
                headers["Dangan_Sm3"] = upload.blob.sm3
        return _tus(HttpResponse(status=204), **headers)


urlpatterns = [
    path("handovers/", HandoverListView.as_view(), name="handover-list"),
    path("handovers/<int:pk>/", HandoverDetailView.as_view(), name="handover-detail"),
    path("uploads/", UploadCreateView.as_view(), name="upload-create"),
    path("uploads/<uuid:uid>/", UploadView.as_view(), name="upload"),
]
