"""The endpoints of /api/v1/: thin shells around the catalogue's and the people's selectors and
services, so that the API shows and changes exactly what the pages would for the same user.

A record or person the user may not see answers 404, as if it did not exist.
"""

from django.db import transaction
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.catalogue.models import Category, Record
from dangan.catalogue.relations import relations_of
from dangan.catalogue.selectors import (
    browse_records,
    count_records,
    person_file,
    read_record,
    record_for_edit,
    visible_fonds,
    visible_persons,
    visible_records,
)
from dangan.catalogue.services import create_record, update_record
from dangan.core.problems import problem_responses
from dangan.people.id_numbers import mask
from dangan.people.models import Person
from dangan.people.services import resolve_persons

from . import serializers as s
from .filters import looks_like_id_number, normalized_query, search_persons

ID = OpenApiParameter("id", int, OpenApiParameter.PATH)


NOT_FOUND = problem_responses(404)
INVALID = problem_responses(400)
REFUSED = problem_responses(403)


@extend_schema_view(
    list=extend_schema(responses={200: s.FondsSerializer(many=True), **INVALID}),
    retrieve=extend_schema(responses={200: s.FondsSerializer, **NOT_FOUND}),
)
class FondsViewSet(viewsets.ReadOnlyModelViewSet):
    """全宗: the fonds in which the user may see records."""

    serializer_class = s.FondsSerializer
    lookup_field = "code"

    def get_queryset(self):
        return visible_fonds(self.request.user).select_related("unit")


@extend_schema_view(
    list=extend_schema(responses={200: s.CategorySerializer(many=True), **INVALID}),
    retrieve=extend_schema(responses={200: s.CategorySerializer, **NOT_FOUND}),
)
class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """门类: the whole classification scheme with each category's fields and retention rules.

    The scheme is the archive's configuration, not personal data, so every user sees all of it;
    it carries no counts, so it tells nothing about which records exist.
    """

    serializer_class = s.CategorySerializer
    lookup_field = "code"
    queryset = Category.objects.select_related("parent").prefetch_related(
        "fields", "retention_rules"
    )


@extend_schema_view(
    list=extend_schema(
        summary="Records you may see, filtered",
        parameters=[s.RecordFilterSerializer],
        responses={200: s.RecordListItemSerializer(many=True), **INVALID},
    ),
    retrieve=extend_schema(
        summary="One record with its persons (the reading is audited)",
        parameters=[ID],
        responses={200: s.RecordSerializer, **NOT_FOUND},
    ),
    create=extend_schema(
        summary="Create a record, filed with its archival code unless `file` is false",
        request=s.RecordCreateSerializer,
        responses={201: s.RecordSerializer, **INVALID, **REFUSED},
    ),
    partial_update=extend_schema(
        summary="Change some fields, metadata keys or the persons of a record",
        parameters=[ID],
        request=s.RecordWriteSerializer,
        responses={200: s.RecordSerializer, **INVALID, **REFUSED, **NOT_FOUND},
    ),
)
class RecordViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Records the user may see; creating and changing them within the user's rights."""

    serializer_class = s.RecordSerializer
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "head", "options"]
    parser_classes = [JSONParser]

    def get_queryset(self):
        filters = s.RecordFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        self.selection = filters.browse_arguments()
        return (
            browse_records(self.request.user, **self.selection)
            .select_related("unit")
            .prefetch_related("persons")
        )

    def count_rows(self, records) -> int:
        """The list's ``count``: counted once and kept a while for the same reader, filters,
        rights and newest record, as the record list's page does (``count_records``), so a
        page of a million records does not count them all again."""
        return count_records(self.request.user, records, self.selection)

    def get_serializer_class(self):
        if self.action == "list":
            return s.RecordListItemSerializer
        return super().get_serializer_class()

    def retrieve(self, request, pk, format=None):
        try:
            record = read_record(request.user, pk)
        except Record.DoesNotExist:
            raise NotFound() from None
        return Response(self._detail(record))

    def create(self, request, format=None):
        data = self._valid(s.RecordCreateSerializer(data=request.data))
        # One transaction: persons created for a record that is then refused must not remain.
        with transaction.atomic():
            record = create_record(
                actor=request.user,
                fonds=data.pop("fonds"),
                category=data.pop("category"),
                file=data.pop("file"),
                metadata=data.pop("metadata", {}),
                persons=self._persons(data.pop("persons", [])),
                values=data,
            )
        record = self._as_seen(record)
        return Response(self._detail(record), status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk, format=None):
        try:
            record = record_for_edit(request.user, pk)
        except Record.DoesNotExist:
            raise NotFound() from None
        data = self._valid(s.RecordWriteSerializer(record, data=request.data, partial=True))
        with transaction.atomic():
            persons = data.pop("persons", None)
            record = update_record(
                actor=request.user,
                record=record,
                metadata=data.pop("metadata", None),
                persons=None if persons is None else self._persons(persons),
                values=data,
            )
        record = self._as_seen(record)
        return Response(self._detail(record))

    def _detail(self, record) -> dict:
        """The record in full, with its relations to records the user may see."""
        visible = visible_records(self.request.user)
        relations = relations_of(record, visible=visible)
        return s.RecordSerializer(record, context={"relations": relations}).data

    def _as_seen(self, record) -> Record:
        """The record just written, read back as its writer sees it, with its persons."""
        return (
            visible_records(self.request.user)
            .select_related("fonds", "category", "unit")
            .prefetch_related("persons")
            .get(pk=record.pk)
        )

    def _valid(self, serializer) -> dict:
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _persons(self, entries) -> list[Person]:
        found = resolve_persons(
            actor=self.request.user, entries=[(e["checked"], e["name"]) for e in entries]
        )
        return list(found.values())

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        q = request.query_params.get("q", "")
        if q:  # searches by staff are audited like the catalogue page's, ID numbers masked
            shown = mask(normalized_query(q)) if looks_like_id_number(q) else q
            record_event(
                actor=request.user,
                action=AuditEvent.Action.SEARCH,
                object_type=Record._meta.label_lower,
                detail={"q": shown, "found": response.data["count"]},
            )
        return response


@extend_schema_view(
    list=extend_schema(
        summary="Persons of the records you may see",
        parameters=[s.PersonFilterSerializer],
        responses={200: s.PersonListItemSerializer(many=True), **INVALID},
    ),
    retrieve=extend_schema(
        summary="A person's file: the records about them you may see (the reading is audited)",
        parameters=[ID],
        responses={200: s.PersonFileSerializer, **NOT_FOUND},
    ),
)
class PersonViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Persons the user may see, that is persons of records the user may see."""

    serializer_class = s.PersonListItemSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        filters = s.PersonFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        persons = visible_persons(self.request.user).order_by("name", "id_number")
        return search_persons(persons, filters.validated_data.get("q", ""))

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        q = request.query_params.get("q", "")
        if q:  # who is in the archive is personal data too; an ID number is kept masked
            shown = mask(normalized_query(q)) if looks_like_id_number(q) else q
            record_event(
                actor=request.user,
                action=AuditEvent.Action.SEARCH,
                object_type=Person._meta.label_lower,
                detail={"q": shown, "found": response.data["count"]},
            )
        return response

    def retrieve(self, request, pk, format=None):
        try:
            person, records = person_file(request.user, pk)
        except Person.DoesNotExist:
            raise NotFound() from None
        person.visible_records = records
        return Response(s.PersonFileSerializer(person).data)
