"""The sensor endpoint of /api/v1/: a climate logger posts its readings for a room.

``urlpatterns`` below are mounted in the "api" namespace by ``dangan/api/urls.py``
(``*stacks_api.urlpatterns``). The sensor logs in as a user with the archivist role (HTTP
Basic for a service account named in ``DANGAN_API_BASIC_USERS``); it needs no grant, since
readings touch no record.
"""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from dangan.core.problems import problem_responses

from . import services
from .models import Reading, Room


class ReadingInSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    temperature = serializers.DecimalField(
        max_digits=4, decimal_places=1, required=False, allow_null=True
    )
    humidity = serializers.DecimalField(
        max_digits=4, decimal_places=1, required=False, allow_null=True
    )


class ReadingsInSerializer(serializers.Serializer):
    readings = ReadingInSerializer(many=True, allow_empty=False)


class AlertSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    started_at = serializers.DateTimeField()
    worst = serializers.DecimalField(max_digits=5, decimal_places=1)
    readings = serializers.IntegerField()


class ReadingsResultSerializer(serializers.Serializer):
    stored = serializers.IntegerField()
    skipped = serializers.IntegerField()
    alerts = AlertSerializer(many=True)


class RoomReadingsView(APIView):
    """Readings of one storage room (by its code), as a sensor or logger sends them.

    A reading already stored (same room and time) is skipped, so a logger may resend. The
    answer names the alerts the readings opened or extended: one per excursion out of range.
    """

    parser_classes = [JSONParser]

    @extend_schema(
        request=ReadingsInSerializer,
        responses={201: ReadingsResultSerializer, **problem_responses(400, 403, 404)},
    )
    def post(self, request, code, format=None):
        room = get_object_or_404(Room, code=code.upper())
        incoming = ReadingsInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        result = services.record_readings(
            actor=request.user,
            room=room,
            readings=[services.reading_in(**r) for r in incoming.validated_data["readings"]],
            source=Reading.Source.SENSOR,
        )
        return Response(ReadingsResultSerializer(result).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path(
        "stacks/rooms/<str:code>/readings/",
        RoomReadingsView.as_view(),
        name="stacks-room-readings",
    ),
]
