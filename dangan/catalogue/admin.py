"""Configuration of the catalogue in the Django admin: fonds, and categories with their metadata
schemas (FieldDefinition) and retention schedules, so an administrator changes them without code.

Records are deliberately absent: they are read through ``selectors.visible_records`` and changed
through ``services`` on the staff pages, which check grants; the admin must not bypass them.
Every change here is audited (``AuditedModelAdmin``). Persons too (``PersonAdmin``, at the end).
"""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from dangan.audit.admin import AuditedModelAdmin, DutyTabularInline
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.people.id_numbers import mask
from dangan.people.models import Person
from dangan.people.services import correct_person

from .models import Category, FieldDefinition, Fonds, RetentionRule
from .selectors import visible_persons


@admin.register(Fonds)
class FondsAdmin(AuditedModelAdmin):
    list_display = ["code", "name", "unit"]
    search_fields = ["code", "name"]


class FieldDefinitionInline(DutyTabularInline):
    model = FieldDefinition
    extra = 0
    fields = [
        "position",
        "key",
        "label",
        "kind",
        "required",
        "choices",
        "pattern",
        "max_length",
        "aliases",
    ]
    ordering = ["position", "id"]


class RetentionRuleInline(DutyTabularInline):
    model = RetentionRule
    extra = 0
    fields = ["record_type", "retention", "basis"]


@admin.register(Category)
class CategoryAdmin(AuditedModelAdmin):
    list_display = [
        "code",
        "name",
        "parent",
        "class_code",
        "level",
        "default_retention",
        "position",
    ]
    list_filter = ["level", "class_code"]
    search_fields = ["code", "name"]
    ordering = ["position", "code"]
    inlines = [FieldDefinitionInline, RetentionRuleInline]


# Persons: to look up and correct a name, not to browse files. Here, not in dangan.people: which
# persons a user may see follows from the records they may see. Persons are created by filing
# records (``people.services.resolve_persons``); their files are read through the staff pages,
# which apply the reader's grants and audit the reading.
class PersonCorrectionForm(forms.ModelForm):
    reason = forms.CharField(
        label=_("reason"),
        max_length=500,
        help_text=_("Why the name is corrected (kept in the history)."),
    )

    class Meta:
        model = Person
        fields = ["name"]


@admin.register(Person)
class PersonAdmin(AuditedModelAdmin):
    list_display = ["name", "masked_id_number", "sex", "birth_date"]
    list_filter = ["sex"]
    search_fields = ["name", "name_folded"]
    form = PersonCorrectionForm
    fields = ["name", "reason", "masked_id_number", "sex", "birth_date"]
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
        # Through the people service, never a bare save: the person's ledger entry and each of
        # their records' follow, with who and why (a bare save reads as tampering to verify).
        correct_person(
            actor=request.user, person=obj, name=obj.name, reason=form.cleaned_data["reason"]
        )
