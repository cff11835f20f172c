"""The system administrator sets each room's climate limits here (configuration, audited like
the rest of it); boxes, inventories, readings and alerts are kept by archivists on the stacks
pages, through the services."""

from django.contrib import admin

from dangan.audit.admin import AuditedModelAdmin

from .models import Room


@admin.register(Room)
class RoomAdmin(AuditedModelAdmin):
    list_display = [
        "code",
        "name",
        "temperature_min",
        "temperature_max",
        "humidity_min",
        "humidity_max",
        "temperature_swing",
        "humidity_swing",
    ]
    fields = list_display[:2] + ["keeps_media"] + list_display[2:]

    def has_delete_permission(self, request, obj=None):
        return False
