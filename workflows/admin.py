"""Workflow admin: list, and edit the definition as JSON with the same validation as the API."""


from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from .models import Workflow, WorkflowVersion
from .services import workflow_create, workflow_update
from .validation import validate_definition


class WorkflowForm(forms.ModelForm):
    class Meta:
        model = Workflow
        fields = ["name", "description", "is_active", "definition"]
        widgets = {"definition": forms.Textarea(attrs={"rows": 24, "cols": 100,
                                                      "class": "vLargeTextField"})}

    def clean_definition(self):
        definition = self.cleaned_data["definition"]
        errors = validate_definition(definition)
        if errors:
            raise ValidationError([f"{e['path']}: {e['message']}" for e in errors])
        return definition


class WorkflowVersionInline(admin.TabularInline):
    model = WorkflowVersion
    fields = ("number", "created_by", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    form = WorkflowForm
    list_display = ("name", "owner", "is_active", "version", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("name", "description", "owner__email")
    readonly_fields = ("version", "owner", "created_at", "updated_at")
    inlines = [WorkflowVersionInline]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("owner")
        return qs if request.user.is_superuser else qs.filter(owner=request.user)

    def save_model(self, request, obj, form, change):
        data = {k: form.cleaned_data[k] for k in ("name", "description", "is_active", "definition")}
        if change:
            saved = workflow_update(workflow=obj, user=request.user, **data)
        else:
            saved = workflow_create(owner=request.user, **data)
        obj.pk, obj.version = saved.pk, saved.version

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "definition" and field is not None:
            field.encoder = None
            field.widget.attrs["spellcheck"] = "false"
        return field


