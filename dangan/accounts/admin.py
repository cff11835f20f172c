"""Units, users and their grants in the Django admin; every change is audited."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from dangan.audit.admin import AuditedAdminMixin, AuditedModelAdmin

from .models import Grant, Unit, User


@admin.register(Unit)
class UnitAdmin(AuditedModelAdmin):
    list_display = ["code", "name", "kind", "parent"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


class GrantInline(admin.TabularInline):
    model = Grant
    extra = 0
    fields = ["fonds", "category", "unit", "max_secrecy"]


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "unit", "is_active", "is_staff"]
    list_filter = ["role", "unit", "is_active", "is_staff"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (_("Role in the archive"), {"fields": ["role", "unit"]}),
    ]
    add_fieldsets = [
        *DjangoUserAdmin.add_fieldsets,
        (_("Role in the archive"), {"fields": ["role", "unit"]}),
    ]
    inlines = [GrantInline]
