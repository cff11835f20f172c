"""Persons in the Django admin: to look up and correct a name, not to browse files.

Persons are created by filing records (``services.resolve_persons``); their files are read
through the staff pages, which apply the reader's grants and audit the reading.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from dangan.audit.admin import AuditedModelAdmin

from .id_numbers import mask
from .models import Person
from .names import fold


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

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.name_folded = fold(obj.name)
        super().save_model(request, obj, form, change)
