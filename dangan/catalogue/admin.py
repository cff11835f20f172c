"""Configuration of the catalogue in the Django admin: fonds, and categories with their metadata
schemas (FieldDefinition) and retention schedules, so an administrator changes them without code.

Records are deliberately absent: they are read through ``selectors.visible_records`` and changed
through ``services`` on the staff pages, which check grants; the admin must not bypass them.
Every change here is audited (``AuditedModelAdmin``).
"""

from django.contrib import admin

from dangan.audit.admin import AuditedModelAdmin, DutyTabularInline

from .models import Category, FieldDefinition, Fonds, RetentionRule


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
