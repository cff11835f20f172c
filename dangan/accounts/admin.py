"""Units, users and their grants in the Django admin, under the separation of duties.

* units are configuration: the system administrator's;
* users: the system administrator creates accounts and keeps their names, unit, active state and
  password; the security administrator gives roles and grants, unlocks locked accounts and resets
  a lost second factor; nobody changes their own account here (there is no superuser);
* the admin's own log-in page is replaced by Dangan's, so that it asks for the second factor;
* the admin's own "Change password" page goes through ``services.change_own_password``.

Every change is audited (``AuditedAdminMixin``).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminPasswordChangeForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangan.audit.admin import AuditedAdminMixin, AuditedModelAdmin, DutyTabularInline
from dangan.security.duties import Duty, check_account_change, check_rights_change, has_duty
from dangan.security.permissions import PERMISSIONS, check_role_permissions

from . import lockout, services
from .models import (
    ADMIN_ROLES,
    ApprovalFlow,
    Grant,
    Lockout,
    RoleDefinition,
    Unit,
    User,
)
from .selectors import role_choices, role_label
from .signals import rights_changed


def _login(request, extra_context=None):
    """The admin logs in through Dangan's own two-step log-in."""
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"))


admin.site.login = _login


class AuditedPasswordChangeForm(AdminPasswordChangeForm):
    """The admin's own "Change password" page, through the audited service: the change and
    every wrong current password are in the audit trail."""

    def clean_old_password(self):
        try:
            return super().clean_old_password()
        except ValidationError:
            services.refuse_own_password_change(user=self.user)
            raise

    def save(self, commit=True):
        services.change_own_password(user=self.user, password=self.cleaned_data["new_password1"])
        return self.user


def _password_change(request, extra_context=None):
    """The admin's "Change password" page with the audited form (else as Django's own)."""
    from django.contrib.auth.views import PasswordChangeView

    site = admin.site
    request.current_app = site.name
    options = {
        "form_class": AuditedPasswordChangeForm,
        "success_url": reverse("admin:password_change_done", current_app=site.name),
        "extra_context": {**site.each_context(request), **(extra_context or {})},
    }
    if site.password_change_template is not None:
        options["template_name"] = site.password_change_template
    return PasswordChangeView.as_view(**options)(request)


admin.site.password_change = _password_change


@admin.register(Unit)
class UnitAdmin(AuditedModelAdmin):
    list_display = ["code", "name", "kind", "parent"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


class GrantInline(DutyTabularInline):
    model = Grant
    extra = 0
    fields = ["fonds", "category", "unit", "max_secrecy"]
    duty = Duty.RIGHTS


class InForceFilter(admin.SimpleListFilter):
    title = gettext_lazy("in force")
    parameter_name = "in_force"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        from django.db.models import Q
        from django.utils import timezone

        live = Q(lifted_at__isnull=True) & (Q(ends_at__isnull=True) | Q(ends_at__gt=timezone.now()))
        if self.value() == "yes":
            return queryset.filter(live)
        if self.value() == "no":
            return queryset.exclude(live)
        return queryset


def _is_self(request, obj) -> bool:
    return obj is not None and obj.pk == request.user.pk


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    list_display = [
        "username",
        "first_name",
        "last_name",
        "role_name",
        "unit",
        "is_active",
        "locked",
    ]
    list_filter = ["role", "unit", "is_active"]
    actions = ["unlock", "reset_second_factor"]
    add_fieldsets = [
        (None, {"fields": ["username", "password1", "password2"]}),
        (gettext_lazy("Person"), {"fields": ["first_name", "last_name", "unit"]}),
    ]
    ACCOUNT_FIELDSETS = [
        (None, {"fields": ["username", "password"]}),
        (gettext_lazy("Person"), {"fields": ["first_name", "last_name", "email", "unit"]}),
        (gettext_lazy("State"), {"fields": ["is_active", "last_login", "date_joined"]}),
    ]
    RIGHTS_FIELDSETS = [
        (None, {"fields": ["username", "first_name", "last_name", "unit"]}),
        (gettext_lazy("Rights"), {"fields": ["role", "is_active"]}),
    ]

    @admin.display(description=gettext_lazy("role"), ordering="role")
    def role_name(self, user):
        return role_label(user.role)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "role":  # the county's roles and the fixed ones, by name
            return forms.ChoiceField(
                label=db_field.verbose_name, choices=role_choices(), initial=db_field.default
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description=gettext_lazy("locked"), boolean=True)
    def locked(self, user):
        return lockout.is_locked(user.username)

    # --- who may see and do what ------------------------------------------------------------
    def _may_manage(self, request):
        return has_duty(request.user, Duty.ACCOUNTS) or has_duty(request.user, Duty.RIGHTS)

    def has_module_permission(self, request):
        return self._may_manage(request)

    def has_view_permission(self, request, obj=None):
        return self._may_manage(request)

    def has_add_permission(self, request):
        return has_duty(request.user, Duty.ACCOUNTS)

    def has_change_permission(self, request, obj=None):
        if _is_self(request, obj):
            return False
        if obj is None or has_duty(request.user, Duty.RIGHTS):
            return self._may_manage(request)
        return has_duty(request.user, Duty.ACCOUNTS) and obj.role not in ADMIN_ROLES

    def has_delete_permission(self, request, obj=None):
        return False  # an account that acted stays, deactivated: the trail points at it

    def has_rights_permission(self, request):
        return has_duty(request.user, Duty.RIGHTS)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        if has_duty(request.user, Duty.RIGHTS):
            return self.RIGHTS_FIELDSETS
        return self.ACCOUNT_FIELDSETS

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and has_duty(request.user, Duty.RIGHTS):
            fields = ["username", "first_name", "last_name", "unit"]
            return fields if obj.role in ADMIN_ROLES else [*fields, "is_active"]
        return ["last_login", "date_joined"] if obj is not None else []

    def get_inlines(self, request, obj):
        if obj is None or obj.role in ADMIN_ROLES or not has_duty(request.user, Duty.RIGHTS):
            return []
        return [GrantInline]

    # --- saving through the rules of the services --------------------------------------------
    def save_model(self, request, obj, form, change):
        changed = set(form.changed_data)
        if change:
            if changed & {"role"}:
                check_rights_change(request.user, obj)
                services.check_known_role(obj.role)
            if changed - {"role"}:
                check_account_change(request.user, obj)
        elif obj.role in ADMIN_ROLES:
            raise PermissionDenied(_("Only the security administrator gives a role."))
        obj.is_staff = obj.role in ADMIN_ROLES
        obj.is_superuser = False
        if obj.role in ADMIN_ROLES and change and "role" in changed:
            Grant.objects.filter(user=obj).delete()
        super().save_model(request, obj, form, change)
        if change and "role" in changed:
            before = {"role": form.initial.get("role")}
            rights_changed.send(
                sender=User, actor=request.user, user=obj, before=before, after={"role": obj.role}
            )

    def save_formset(self, request, form, formset, change):
        if formset.model is Grant:
            check_rights_change(request.user, form.instance)
        super().save_formset(request, form, formset, change)
        if formset.model is Grant and formset.has_changed():
            rights_changed.send(
                sender=User,
                actor=request.user,
                user=form.instance,
                before={},
                after={"grants": [str(g) for g in form.instance.grants.all()]},
            )

    def user_change_password(self, request, id, form_url=""):
        target = self.get_object(request, id)
        if target is None:
            return super().user_change_password(request, id, form_url)
        check_account_change(request.user, target)
        return super().user_change_password(request, id, form_url)

    # --- the security administrator's actions -------------------------------------------------
    @admin.action(description=gettext_lazy("Unlock the selected accounts"), permissions=["rights"])
    def unlock(self, request, queryset):
        done = 0
        for user in queryset:
            try:
                services.unlock_account(actor=request.user, user=user)
                done += 1
            except PermissionDenied as error:
                messages.error(request, f"{user}: {error}")
        messages.success(request, _("%(count)d account(s) unlocked.") % {"count": done})

    @admin.action(
        description=gettext_lazy("Reset the two-factor log-in of the selected accounts"),
        permissions=["rights"],
    )
    def reset_second_factor(self, request, queryset):
        done = 0
        for user in queryset:
            try:
                services.reset_second_factor(actor=request.user, user=user)
                done += 1
            except PermissionDenied as error:
                messages.error(request, f"{user}: {error}")
        messages.success(
            request,
            _("%(count)d account(s) will set up two-factor log-in again.") % {"count": done},
        )


@admin.register(Lockout)
class LockoutAdmin(admin.ModelAdmin):
    """Locks after failed log-ins, for the security administrator to see and lift."""

    list_display = ["key", "scope", "failures", "from_addresses", "started_at", "ends_at", "state"]
    list_filter = ["scope", InForceFilter]
    search_fields = ["key"]
    readonly_fields = [
        "scope",
        "key",
        "failures",
        "addresses",
        "started_at",
        "ends_at",
        "lifted_at",
        "lifted_by",
    ]
    actions = ["lift"]

    @admin.display(description=gettext_lazy("from addresses"))
    def from_addresses(self, lock):
        return ", ".join(lock.addresses)

    @admin.display(description=gettext_lazy("state"))
    def state(self, lock):
        if lock.lifted_at:
            return _("lifted by %(who)s") % {"who": lock.lifted_by or _("the system")}
        return _("in force") if lock.in_force else _("ended")

    def has_module_permission(self, request):
        return has_duty(request.user, Duty.RIGHTS)

    def has_view_permission(self, request, obj=None):
        return has_duty(request.user, Duty.RIGHTS)

    def has_rights_permission(self, request):
        return has_duty(request.user, Duty.RIGHTS)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=gettext_lazy("Lift the selected locks"), permissions=["rights"])
    def lift(self, request, queryset):
        done = 0
        for lock in queryset:
            if not lock.in_force:
                continue
            try:
                lockout.lift(actor=request.user, lock=lock)
                done += 1
            except PermissionDenied as error:
                messages.error(request, f"{lock}: {error}")
        messages.success(request, _("%(count)d lock(s) lifted.") % {"count": done})


class ApprovalFlowForm(forms.ModelForm):
    """Up to four steps, each a role, in order; the service checks them."""

    step_1 = forms.ChoiceField(label=gettext_lazy("Step 1"))
    step_2 = forms.ChoiceField(label=gettext_lazy("Step 2"), required=False)
    step_3 = forms.ChoiceField(label=gettext_lazy("Step 3"), required=False)
    step_4 = forms.ChoiceField(label=gettext_lazy("Step 4"), required=False)
    STEPS = ["step_1", "step_2", "step_3", "step_4"]

    class Meta:
        model = ApprovalFlow
        fields = ["kind"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *((r, role_label(r)) for r in services.approving_roles())]
        for n, name in enumerate(self.STEPS):
            self.fields[name].choices = choices
            if self.instance.pk and n < len(self.instance.roles):
                self.initial[name] = self.instance.roles[n]

    def clean(self):
        data = super().clean()
        data["roles"] = [data.get(name) for name in self.STEPS if data.get(name)]
        return data


@admin.register(ApprovalFlow)
class ApprovalFlowAdmin(admin.ModelAdmin):
    """The approval steps of each kind of request, kept by the system administrator."""

    form = ApprovalFlowForm
    list_display = ["kind", "__str__"]

    def has_module_permission(self, request):
        return has_duty(request.user, Duty.CONFIGURE)

    def has_view_permission(self, request, obj=None):
        return has_duty(request.user, Duty.CONFIGURE)

    def has_add_permission(self, request):
        return has_duty(request.user, Duty.CONFIGURE)

    def has_change_permission(self, request, obj=None):
        return has_duty(request.user, Duty.CONFIGURE)

    def has_delete_permission(self, request, obj=None):
        return has_duty(request.user, Duty.CONFIGURE)  # back to today's single step

    def get_actions(self, request):
        return {}  # one at a time, through delete_model (audited)

    def save_model(self, request, obj, form, change):
        flow = services.set_approval_flow(
            actor=request.user, kind=obj.kind, roles=form.cleaned_data["roles"]
        )
        obj.pk, obj.roles = flow.pk, flow.roles

    def delete_model(self, request, obj):
        services.reset_approval_flow(actor=request.user, kind=obj.kind)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return _checked_by_service(form)


def _checked_by_service(form_class):
    """The form refuses what the service would refuse, so the admin shows the reason by the
    field instead of saving nothing."""

    class Checked(form_class):
        def clean(self):
            data = super().clean()
            try:
                services.check_approval_roles(data.get("roles", []))
            except ValidationError as error:
                self.add_error(None, error)
            return data

    return Checked


class RoleDefinitionForm(forms.ModelForm):
    """A county role: a name and the permissions it gives, ticked from the registry."""

    permissions = forms.MultipleChoiceField(
        label=gettext_lazy("Permissions"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = RoleDefinition
        fields = ["code", "name", "description", "permissions"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only what a county role may hold: the administrators' duties are not offered.
        self.fields["permissions"].choices = [
            (p.code, p.label) for p in PERMISSIONS.values() if not p.admin_only
        ]
        if self.instance.pk:
            self.fields["code"].disabled = True  # users hold the role by its code

    def clean(self):
        data = super().clean()
        try:
            check_role_permissions(set(data.get("permissions") or []))
        except ValidationError as error:
            self.add_error("permissions", error)
        return data


@admin.register(RoleDefinition)
class RoleDefinitionAdmin(admin.ModelAdmin):
    """The county's roles, kept by the system administrator; saved and removed through the
    services, which refuse (with the reason) what breaks the separation of duties."""

    form = RoleDefinitionForm
    list_display = ["code", "__str__", "permission_names", "holders"]

    @admin.display(description=gettext_lazy("permissions"))
    def permission_names(self, role):
        return "; ".join(str(PERMISSIONS[c].label) for c in role.permissions if c in PERMISSIONS)

    @admin.display(description=gettext_lazy("accounts"))
    def holders(self, role):
        return User.objects.filter(role=role.code).count()

    def has_module_permission(self, request):
        return has_duty(request.user, Duty.CONFIGURE) or has_duty(request.user, Duty.RIGHTS)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return has_duty(request.user, Duty.CONFIGURE)

    def has_change_permission(self, request, obj=None):
        return has_duty(request.user, Duty.CONFIGURE)

    def has_delete_permission(self, request, obj=None):
        return has_duty(request.user, Duty.CONFIGURE)

    def get_actions(self, request):
        return {}  # one at a time, through delete_model (checked and audited)

    def save_model(self, request, obj, form, change):
        role = services.define_role(
            actor=request.user,
            code=obj.code,
            name=obj.name,
            description=obj.description,
            permissions=form.cleaned_data["permissions"],
        )
        obj.pk = role.pk

    def delete_model(self, request, obj):
        services.remove_role(actor=request.user, code=obj.code)

    def delete_view(self, request, object_id, extra_context=None):
        role = self.get_object(request, object_id)
        if role is not None and request.method == "POST":
            try:
                services.remove_role(actor=request.user, code=role.code)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
                return redirect(reverse("admin:accounts_roledefinition_change", args=[role.pk]))
            messages.success(request, _("The role %(role)s was removed.") % {"role": role})
            return redirect(reverse("admin:accounts_roledefinition_changelist"))
        return super().delete_view(request, object_id, extra_context)
