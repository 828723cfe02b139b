from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.http import HttpResponseRedirect
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import audit_record

from .mfa import mfa_remove, user_has_mfa
from .lockout import lockout_reset
from .models import User

# django-otp's device admins show the TOTP keys and recovery codes: 2FA is managed by each user
# (Two-factor sign-in page), and an administrator can only turn it off (the action below).
for _device in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device):
        admin.site.unregister(_device)


class EmailUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


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
        (None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),
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
