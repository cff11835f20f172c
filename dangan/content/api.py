"""The content endpoints of /api/v1/: a record's pages (list, upload, order) and downloads.

Thin shells around the same services and selectors as the pages; a record the user may not
see answers 404. ``urlpatterns`` below are mounted in the "api" namespace by
``dangan/api/urls.py`` (``*content_api.urlpatterns``, before the router's patterns).
"""

from django.http import FileResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from dangan.catalogue.models import Record
from dangan.catalogue.selectors import record_for_edit
from dangan.core.problems import problem_responses

from . import selectors, services
from .models import Page

NOT_FOUND = problem_responses(404)
INVALID = problem_responses(400)
REFUSED = problem_responses(403)


class PageSerializer(serializers.ModelSerializer):
    size = serializers.IntegerField(source="blob.size")
    sha256 = serializers.CharField(source="blob.sha256")
    sm3 = serializers.SerializerMethodField(
        help_text="SM3 (GB/T 32905); null for a moment after the upload, until it is computed."
    )
    format = serializers.CharField(source="blob.format_label")
    mime = serializers.CharField(source="blob.mime")
    content_url = serializers.HyperlinkedIdentityField(view_name="api:page-content")

    class Meta:
        model = Page
        fields = [
            "id",
            "position",
            "filename",
            "size",
            "format",
            "mime",
            "sha256",
            "sm3",
            "created_at",
            "content_url",
        ]

    def get_sm3(self, page) -> str | None:
        return page.blob.sm3 or None


class UploadSerializer(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(), allow_empty=False)


class OrderSerializer(serializers.Serializer):
    order = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)


def _record(request, pk) -> Record:
    try:
        return record_for_edit(request.user, pk)
    except Record.DoesNotExist:
        raise NotFound() from None


class RecordPagesView(APIView):
    """页: the files of a record in page order; POST adds files after the last page."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses={200: PageSerializer(many=True), **NOT_FOUND})
    def get(self, request, pk):
        pages = selectors.record_pages(request.user, _record(request, pk))
        return Response(PageSerializer(pages, many=True, context={"request": request}).data)

    @extend_schema(
        request={"multipart/form-data": UploadSerializer},
        responses={201: PageSerializer(many=True), **INVALID, **REFUSED, **NOT_FOUND},
    )
    def post(self, request, pk):
        record = _record(request, pk)
        files = request.FILES.getlist("files")
        pages = services.add_files(
            actor=request.user, record=record, files=[(f.name, f) for f in files]
        )
        data = PageSerializer(pages, many=True, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)


class PageOrderView(APIView):
    """The record's page order: PUT every page id once, in the new order."""

    parser_classes = [JSONParser]

    @extend_schema(
        request=OrderSerializer,
        responses={200: PageSerializer(many=True), **INVALID, **REFUSED, **NOT_FOUND},
    )
    def put(self, request, pk):
        record = _record(request, pk)
        body = OrderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        pages = services.reorder_pages(
            actor=request.user, record=record, order=body.validated_data["order"]
        )
        return Response(PageSerializer(pages, many=True, context={"request": request}).data)


class PageContentView(APIView):
    """The bytes of one page, streamed; the download is written to the audit trail."""

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
            **NOT_FOUND,
        }
    )
    def get(self, request, pk):
        try:
            page, stream = selectors.download_page(request.user, pk)
        except Page.DoesNotExist:
            raise NotFound() from None
        response = FileResponse(
            stream, as_attachment=True, filename=page.filename, content_type=page.blob.mime
        )
        response.block_size = 1024 * 1024
        response["Content-Length"] = str(page.blob.size)
        response["ETag"] = f'"{page.blob.sha256}"'
        return response


urlpatterns = [
    path("records/<int:pk>/pages/", RecordPagesView.as_view(), name="record-pages"),
    path("records/<int:pk>/pages/order/", PageOrderView.as_view(), name="page-order"),
    path("pages/<int:pk>/content/", PageContentView.as_view(), name="page-content"),
]
