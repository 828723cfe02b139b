from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.http import HttpResponseRedirect

from audit.services import audit_record

from .models import Project, User


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
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "password1", "password2",
                                                 "is_staff")}),
    )

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
