from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.http import HttpResponseRedirect
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import audit_record

from .access import projects_visible_to
from .admin_access import ProjectScopedAdmin
from .lockout import lockout_reset
from .mfa import mfa_remove, user_has_mfa
from .models import Membership, Project, User
from .services import (
    ProjectRuleError,
    project_create,
    project_delete,
    project_update,
    require_mfa_check,
)

# django-otp's device admins show the TOTP keys and recovery codes: 2FA is managed by each user
# (Two-factor sign-in page), and an administrator can only turn it off (the action below).
for _device in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device):
        admin.site.unregister(_device)


class EmailUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "is_staff")


class EmailUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = EmailUserChangeForm
    add_form = EmailUserCreationForm
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    actions = ["turn_off_two_factor", "unlock_logins"]

    @admin.action(description="Turn off two-factor sign-in (lost phone and recovery codes)",
                  permissions=["change"])
    def turn_off_two_factor(self, request, queryset):
        done = 0
        for user in queryset:
            if user_has_mfa(user):
                mfa_remove(user=user)
                audit_record(action="mfa.disable", obj=user, actor=request.user,
                             extra={"proof": "administrator"})
                done += 1
        self.message_user(request, f"Two-factor sign-in turned off for {done} user(s).")

    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "password1", "password2",
                                                 "is_staff")}),
    )

    @admin.action(description="Unlock logins (clear failed attempts)",
                  permissions=["change"])
    def unlock_logins(self, request, queryset):
        removed = sum(lockout_reset(user=user, actor=request.user) for user in queryset)
        self.message_user(request, f"Cleared {removed} failed login(s) for "
                          f"{queryset.count()} user(s); they can sign in again.",
                          messages.SUCCESS)

    # The audit trail: which fields changed (names only; no password ever), by whom.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:  # every user has a personal project from the start
            Project.objects.create_personal(obj)
        fields = sorted(f if "password" not in f else "password" for f in form.changed_data)
        audit_record(action="user.update" if change else "user.create", obj=obj,
                     actor=request.user, extra={"fields": sorted(set(fields))})

    def delete_model(self, request, obj):
        audit_record(action="user.delete", obj=obj, actor=request.user)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            audit_record(action="user.delete", obj=user, actor=request.user)
        super().delete_queryset(request, queryset)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and isinstance(response, HttpResponseRedirect):
            user = self.get_object(request, id)
            if user is not None:
                audit_record(action="user.update", obj=user, actor=request.user,
                             extra={"fields": ["password"]})
        return response


class MembershipInline(admin.TabularInline):
    """Members and roles, read-only here: add, change and remove them with
    `/api/projects/<id>/members` or invite by email (so the last-admin rule and the audit trail
    always apply)."""

    model = Membership
    fields = ("user", "role", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return bool(request.user.is_active and request.user.is_staff)


class ProjectAdminForm(forms.ModelForm):
    """Turning `require_mfa` on needs 2FA on one's own account (a field error otherwise)."""

    actor: Any = None  # set per request by ProjectAdmin.get_form

    class Meta:
        model = Project
        fields = ("name", "require_mfa", "monthly_token_budget", "monthly_cost_budget")

    def clean_require_mfa(self) -> bool:
        value = bool(self.cleaned_data.get("require_mfa"))
        try:  # the instance still holds the stored value here (set after clean())
            require_mfa_check(actor=self.actor,
                              turning_on=value and not self.instance.require_mfa)
        except ProjectRuleError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None
        return value


@admin.register(Project)
class ProjectAdmin(ProjectScopedAdmin, admin.ModelAdmin):
    """Your projects; their admins rename them and require two-factor sign-in."""

    form = ProjectAdminForm
    visible_to = staticmethod(projects_visible_to)
    project_lookup = "pk"
    change_action = "admin"
    delete_action = "admin"
    list_display = ("name", "is_personal", "require_mfa", "created_at")
    search_fields = ("name",)
    fields = ("name", "require_mfa", "monthly_token_budget", "monthly_cost_budget",
              "personal_owner", "created_at")
    readonly_fields = ("personal_owner", "created_at")
    inlines = [MembershipInline]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user  # a class made for this request by modelform_factory
        return form

    @admin.display(boolean=True, description="personal")
    def is_personal(self, obj):
        return obj.is_personal

    def save_model(self, request, obj, form, change):
        data = {k: form.cleaned_data[k] for k in ("name", "require_mfa", "monthly_token_budget",
                                                  "monthly_cost_budget")
                if k in form.cleaned_data}
        if change:  # the form already set the new values on `obj`: compare with the stored
            project_update(project=Project.objects.get(pk=obj.pk), actor=request.user, **data)
        else:
            obj.pk = project_create(creator=request.user, **data).pk

    def delete_model(self, request, obj):
        try:
            project_delete(project=obj, actor=request.user)
        except ProjectRuleError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def delete_queryset(self, request, queryset):
        for project in self.scoped(request, queryset, "admin"):
            self.delete_model(request, project)
