"""The audit trail in the Django admin (read-only), and ``AuditedModelAdmin``, which every other
ModelAdmin uses so that configuration changed in the admin lands in the same trail as the
changes made through the pages: who, when, before and after.
"""

from django.contrib import admin
from django.db import transaction
from django.forms.models import model_to_dict

from dangan.security.duties import Duty, has_duty

from .models import AuditEvent
from .services import Event, record_event, record_events

#: Never copied into the trail.
SECRET_FIELDS = {"password"}


def admin_snapshot(obj) -> dict:
    """What the trail keeps of a configuration object (secrets left out)."""
    if obj is None or obj.pk is None:
        return {}
    data = model_to_dict(obj)
    return {k: v for k, v in data.items() if k not in SECRET_FIELDS}


def _changes(before: dict, after: dict) -> tuple[dict, dict]:
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    return {k: before.get(k) for k in changed}, {k: after.get(k) for k in changed}


class AuditedAdminMixin:
    """Writes an audit event for every create, change and delete made through the admin,
    including the objects of inlines. Django runs these inside the request's transaction.

    Who may use the page is the administrator whose ``duty`` it is (三员分立; by default the
    system administrator's configuration duty), never a "superuser".
    """

    duty = Duty.CONFIGURE

    def has_module_permission(self, request):
        return has_duty(request.user, self.duty)

    def has_view_permission(self, request, obj=None):
        return has_duty(request.user, self.duty)

    def has_add_permission(self, request, *args):
        return has_duty(request.user, self.duty)

    def has_change_permission(self, request, obj=None):
        return has_duty(request.user, self.duty)

    def has_delete_permission(self, request, obj=None):
        return has_duty(request.user, self.duty)

    def save_model(self, request, obj, form, change):
        before = admin_snapshot(type(obj).objects.filter(pk=obj.pk).first()) if change else {}
        super().save_model(request, obj, form, change)
        after = admin_snapshot(obj)
        if change:
            before, after = _changes(before, after)
            if not after:
                return
        record_event(
            actor=request.user,
            obj=obj,
            action=AuditEvent.Action.UPDATE if change else AuditEvent.Action.CREATE,
            before=before or None,
            after=after,
            detail={"via": "admin"},
        )

    def save_formset(self, request, form, formset, change):
        initial = {
            f.instance.pk: admin_snapshot(type(f.instance).objects.filter(pk=f.instance.pk).first())
            for f in formset.initial_forms
            if f.instance.pk
        }
        deleting = [(f.instance, f.instance.pk) for f in formset.deleted_forms if f.instance.pk]
        super().save_formset(request, form, formset, change)
        events = [
            Event(
                action=AuditEvent.Action.CREATE,
                obj=o,
                after=admin_snapshot(o),
                detail={"via": "admin"},
            )
            for o in formset.new_objects
        ]
        for obj, _fields in formset.changed_objects:
            before, after = _changes(initial.get(obj.pk, {}), admin_snapshot(obj))
            events.append(
                Event(
                    action=AuditEvent.Action.UPDATE,
                    obj=obj,
                    before=before,
                    after=after,
                    detail={"via": "admin"},
                )
            )
        events += [
            Event(
                action=AuditEvent.Action.DELETE,
                obj=o,
                object_id=str(pk),
                before=initial.get(pk),
                detail={"via": "admin"},
            )
            for o, pk in deleting
        ]
        record_events(actor=request.user, events=events)

    def delete_model(self, request, obj):
        before, pk = admin_snapshot(obj), obj.pk
        with transaction.atomic():
            super().delete_model(request, obj)
            record_event(
                actor=request.user,
                action=AuditEvent.Action.DELETE,
                obj=obj,
                object_id=str(pk),
                before=before,
                detail={"via": "admin"},
            )

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            events = [
                Event(
                    action=AuditEvent.Action.DELETE,
                    obj=o,
                    object_id=str(o.pk),
                    before=admin_snapshot(o),
                    detail={"via": "admin"},
                )
                for o in queryset
            ]
            super().delete_queryset(request, queryset)
            record_events(actor=request.user, events=events)


class AuditedModelAdmin(AuditedAdminMixin, admin.ModelAdmin):
    pass


class DutyTabularInline(admin.TabularInline):
    """An inline open to the administrator whose ``duty`` it is (its parent's, by default)."""

    duty = Duty.CONFIGURE

    def has_view_permission(self, request, obj=None):
        return has_duty(request.user, self.duty)

    def has_add_permission(self, request, obj=None):
        return has_duty(request.user, self.duty)

    def has_change_permission(self, request, obj=None):
        return has_duty(request.user, self.duty)

    def has_delete_permission(self, request, obj=None):
        return has_duty(request.user, self.duty)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The trail can be read and searched here, never written, changed or deleted."""

    list_display = ["at", "actor_name", "action", "object_type", "object_repr", "ip"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_name", "object_repr", "object_id"]
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    list_per_page = 100
    show_full_result_count = False  # no COUNT(*) over a trail of millions of rows

    def has_module_permission(self, request):
        return has_duty(request.user, Duty.AUDIT)

    def has_view_permission(self, request, obj=None):
        return has_duty(request.user, Duty.AUDIT)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
