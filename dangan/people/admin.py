"""Persons in the Django admin: to look up and correct a name, not to browse files.

Persons are created by filing records (``services.resolve_persons``); their files are read
through the staff pages, which apply the reader's grants and audit the reading.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from dangan.audit.admin import AuditedModelAdmin
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.search.services import reindex_records

from .id_numbers import mask
from .models import Person
from .names import fold
from .selectors import visible_persons


@admin.register(Person)
class PersonAdmin(AuditedModelAdmin):
    list_display = ["name", "masked_id_number", "sex", "birth_date"]
    list_filter = ["sex"]
    search_fields = ["name", "name_folded"]
    fields = ["name", "masked_id_number", "sex", "birth_date"]
    readonly_fields = ["masked_id_number", "sex", "birth_date"]
    show_full_result_count = False

    @admin.display(description=_("national ID number"))
    def masked_id_number(self, person):
        return mask(person.id_number)

    # Persons are personal data: only who may read their records, only those persons, audited.
    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=visible_persons(request.user))

    def has_module_permission(self, request):
        return request.user.may_read_records

    def has_view_permission(self, request, obj=None):
        return request.user.may_read_records

    def has_change_permission(self, request, obj=None):
        return request.user.may_edit_records

    def change_view(self, request, object_id, form_url="", extra_context=None):
        person = self.get_object(request, object_id)
        if person is not None and request.method == "GET":
            record_event(actor=request.user, action=AuditEvent.Action.READ, obj=person)
        return super().change_view(request, object_id, form_url, extra_context)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.name_folded = fold(obj.name)
        super().save_model(request, obj, form, change)
        reindex_records(obj.record_links.values_list("record_id", flat=True))
