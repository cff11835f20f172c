"""归档接口: a business system files a record with its metadata and files in one request.

``POST /api/v1/filings/`` (multipart): ``sender_id`` — the system's own id of the record —,
``record`` — the record as JSON, the body ``POST /api/v1/records/`` takes — and ``files``. The
record is created and filed, and its files added, through the same services as the pages
(``catalogue.services.create_record``, ``content.services.add_files``: the same metadata schema,
format identification, virus scan and refusals), all in one transaction: a refused file leaves
no record behind. The same ``sender_id`` again with the same content answers the record filed
the first time (200); with different content it is refused (409, ``filing_conflict``).
"""

import hashlib

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.exceptions import ValidationError as InvalidInput
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from dangan.catalogue.selectors import visible_records
from dangan.catalogue.services import create_record
from dangan.content.services import add_files
from dangan.core.canonical import dumps as canonical_dumps
from dangan.core.problems import problem_responses
from dangan.people.services import resolve_persons

from . import serializers as s
from .models import Filing


class FilingConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "filing_conflict"
    default_detail = "This id was filed before with other content."


class FilingSerializer(serializers.Serializer):
    sender_id = serializers.CharField(max_length=100, help_text="The sending system's own id.")
    record = serializers.JSONField(
        help_text="The record, as POST /api/v1/records/ takes it (fonds, category, title, …)."
    )
    files = serializers.ListField(child=serializers.FileField(), allow_empty=True, required=False)


class FiledSerializer(serializers.Serializer):
    sender_id = serializers.CharField()
    created = serializers.BooleanField()
    record = s.RecordSerializer()


def _digest(record: dict, files) -> str:
    """``sha256:`` of the record's JSON (canonical) and each file's name and bytes, in order."""
    digest = hashlib.sha256(canonical_dumps(record).encode())
    for upload in files:
        digest.update(b"\x00" + upload.name.encode() + b"\x00")
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
    return "sha256:" + digest.hexdigest()


class FilingView(APIView):
    """A business system files one record with its files; idempotent by ``sender_id``."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="File a record with its metadata and files (idempotent by the sender's id)",
        request={"multipart/form-data": FilingSerializer},
        responses={
            201: FiledSerializer,
            200: FiledSerializer,
            **problem_responses(400),
            **problem_responses(403),
            **problem_responses(409),
        },
    )
    def post(self, request):
        body = FilingSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        sender_id = body.validated_data["sender_id"]
        files = request.FILES.getlist("files")
        described = body.validated_data["record"]
        if not isinstance(described, dict):
            raise InvalidInput({"record": [_("The record must be a JSON object.")]})
        digest = _digest(described, files)
        earlier = Filing.objects.filter(sender=request.user, external_id=sender_id).first()
        if earlier is not None:
            return self._again(request, earlier, digest)
        record_data = s.RecordCreateSerializer(data=described)
        if not record_data.is_valid():
            raise InvalidInput({"record": record_data.errors})
        data = dict(record_data.validated_data)
        try:
            with transaction.atomic():
                persons = resolve_persons(
                    actor=request.user,
                    entries=[(e["checked"], e["name"]) for e in data.pop("persons", [])],
                )
                record = create_record(
                    actor=request.user,
                    fonds=data.pop("fonds"),
                    category=data.pop("category"),
                    file=data.pop("file"),
                    metadata=data.pop("metadata", {}),
                    persons=list(persons.values()),
                    values=data,
                )
                if files:
                    add_files(actor=request.user, record=record, files=[(f.name, f) for f in files])
                Filing.objects.create(
                    sender=request.user, external_id=sender_id, digest=digest, record=record
                )
        except IntegrityError:  # the same id filed at the same moment by a second request
            earlier = Filing.objects.filter(sender=request.user, external_id=sender_id).first()
            if earlier is None:
                raise
            return self._again(request, earlier, digest)
        return self._answer(request, sender_id, record.pk, created=True)

    def _again(self, request, earlier: Filing, digest: str) -> Response:
        if earlier.digest != digest:
            raise FilingConflict(
                _("The id %(id)s was filed before with other content.")
                % {"id": earlier.external_id}
            )
        return self._answer(request, earlier.external_id, earlier.record_id, created=False)

    def _answer(self, request, sender_id, record_pk, *, created) -> Response:
        record = (
            visible_records(request.user)
            .select_related("fonds", "category", "unit")
            .prefetch_related("persons")
            .get(pk=record_pk)
        )
        data = {
            "sender_id": sender_id,
            "created": created,
            "record": s.RecordSerializer(record).data,
        }
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
