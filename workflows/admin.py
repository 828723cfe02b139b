"""Workflow admin: the list (last run, filters, actions, import), the JSON change form with the
same validation as the API, and the visual editor page (see `admin_views`)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import slugify

from accounts.access import can, personal_project, projects_visible_to
from accounts.admin_access import ProjectScopedAdmin
from runs.models import Run
from runs.services import run_start
from wfaib.masking import keep_secrets, mask

from . import (
    admin_credentials,  # noqa: F401  (registers the Credential admin)
    admin_views,
)
from .admin_folders import FolderFilter, folder_bar, folder_label, move_to_folder_page
from .admin_list import TagFilter, annotate_list, node_type_of, using_node_type
from .folders import folders_visible_to
from .models import Variable, Workflow, WorkflowVersion
from .selectors import workflows_visible_to
from .services import workflow_create, workflow_delete, workflow_update
from .tags import clean_tags, split_tags
from .validation import error_text, validate_definition
from .variables import (
    key_problem,
    variable_create,
    variable_delete,
    variable_update,
    variables_visible_to,
)


class WorkflowForm(forms.ModelForm):
    # The version this form was loaded at: a save after someone else's is refused, not applied
    # over theirs (as the API's 409 version_conflict).
    based_on = forms.IntegerField(widget=forms.HiddenInput, required=False)

    tags = forms.CharField(required=False, help_text="Comma-separated, e.g. billing, ops.")

    class Meta:
        model = Workflow
        fields = ["name", "project", "folder", "description", "tags", "is_active", "definition",
                  "retention_days", "retention_max_runs",
                  "monthly_token_budget", "monthly_cost_budget"]
        widgets = {"definition": forms.Textarea(attrs={"rows": 24, "cols": 100,
                                                      "class": "vLargeTextField"})}
        labels = {"retention_days": "Keep runs for (days)",
                  "retention_max_runs": "Keep at most (runs)"}
        help_texts = {
            "retention_days": "Finished runs older than this are deleted with their logs and "
                              "files. Empty: the deployment's WFAIB_RUN_RETENTION_DAYS; "
                              "0: no age limit.",
            "retention_max_runs": "Only the newest finished runs are kept. Empty: the "
                                  "deployment's WFAIB_RUN_RETENTION_MAX_RUNS; 0: no cap.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:  # node secrets are never shown back; saving keeps them
            self.initial["definition"] = mask(self.instance.definition)
            self.initial["based_on"] = self.instance.version
            self.initial["tags"] = ", ".join(self.instance.tags or [])

    def clean_tags(self):
        try:
            return clean_tags(split_tags(self.cleaned_data.get("tags") or ""))
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def clean(self):
        data = super().clean()
        based_on = data.get("based_on")
        if self.instance.pk and based_on is not None:
            current = Workflow.objects.filter(pk=self.instance.pk).values_list(
                "version", flat=True).first()
            if current is not None and current != based_on:
                raise ValidationError(
                    f"Someone saved this workflow since you opened it (now version {current}). "
                    "Reload the page, reapply your change and save again.")
        return data

    default_project = None  # set per request by WorkflowAdmin.get_form

    def clean_project(self):
        project = self.cleaned_data.get("project")
        if project is None:  # left empty: stays where it is, or the personal project
            project = self.instance.project if self.instance.pk else self.default_project
        return project

    def clean_folder(self):
        folder, project = self.cleaned_data.get("folder"), self.clean_project()
        if folder is not None and project is not None and folder.project_id != project.pk:
            raise ValidationError("the folder must be in the workflow's project")
        return folder

    def clean_definition(self):
        definition = self.cleaned_data["definition"]
        if self.instance.pk:
            definition = keep_secrets(definition, self.instance.definition)
        errors = validate_definition(definition)
        if errors:
            raise ValidationError([error_text(e) for e in errors])
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

    # The parent's queryset is already scoped to the user's projects; versions are read-only.
    def has_view_permission(self, request, obj=None):
        return bool(request.user.is_active and request.user.is_staff)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LastRunStatusFilter(admin.SimpleListFilter):
    title = "last run status"
    parameter_name = "last_status"

    def lookups(self, request, model_admin):
        return [*Run.Status.choices, ("never", "never run")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "never":
            return queryset.filter(last_run_status__isnull=True)
        if value:
            return queryset.filter(last_run_status=value)
        return queryset


@admin.register(Workflow)
class WorkflowAdmin(ProjectScopedAdmin, admin.ModelAdmin):
    visible_to = staticmethod(workflows_visible_to)
    form = WorkflowForm
    list_display = ("name", "folder_column", "tag_list", "project", "owner", "is_active",
                    "version", "last_run", "failure_rate_column", "updated_at", "editor_link")
    list_filter = (FolderFilter, "is_active", LastRunStatusFilter, TagFilter,
                   ("project", admin.RelatedOnlyFieldListFilter), "owner")
    search_fields = ("name", "description", "owner__email")
    search_help_text = "Name, description, owner's email, or a node type (http, type:code)."
    readonly_fields = ("version", "owner", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "project", "folder", "description", "tags", "is_active",
                           "definition", "based_on", "version", "owner", "created_at",
                           "updated_at")}),
        ("Run retention", {"fields": ("retention_days", "retention_max_runs"),
                           "description": "How long this workflow's finished runs are kept "
                                          "(manage.py prune_runs and the scheduler apply it)."}),
        ("Monthly budgets of model calls", {
            "fields": ("monthly_token_budget", "monthly_cost_budget"),
            "description": "A model call that would pass a budget fails before it is made; "
                           "an audit event warns at 80 %. Empty: no budget (the project's "
                           "still applies)."}),
    )
    inlines = [WorkflowVersionInline]
    actions = ["activate", "deactivate", "duplicate", "run_now", "export_json",
               "move_to_folder"]
    change_list_template = "admin/workflows/workflow/change_list.html"
    change_form_template = "admin/workflows/workflow/change_form.html"

    def get_queryset(self, request):
        return annotate_list(super().get_queryset(request).select_related(
            "owner", "project", "folder__parent"))

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**folder_bar(request), **(extra_context or {})})

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        node_type = node_type_of(search_term)
        if node_type:
            found = found | queryset.filter(pk__in=using_node_type(queryset, node_type))
        return found, may_have_duplicates

    def get_list_filter(self, request):
        # Only a superuser sees everyone's workflows, so only they filter by owner.
        filters = super().get_list_filter(request)
        return filters if request.user.is_superuser else [f for f in filters if f != "owner"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.default_project = personal_project(request.user)
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "project":  # only projects the user may edit in
            kwargs["queryset"] = projects_visible_to(request.user, "edit")
            kwargs["initial"] = personal_project(request.user)
            kwargs["required"] = False
        if db_field.name == "folder":  # the project's own is checked by the form
            kwargs["queryset"] = folders_visible_to(request.user, "edit")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        fields = ("name", "project", "folder", "description", "is_active", "definition", "tags",
                  "retention_days", "retention_max_runs",
                  "monthly_token_budget", "monthly_cost_budget")
        data = {k: form.cleaned_data[k] for k in fields if k in form.cleaned_data}
        if change:
            saved = workflow_update(workflow=obj, user=request.user, **data)
        else:
            saved = workflow_create(owner=request.user, **data)
        obj.pk, obj.version = saved.pk, saved.version

    def delete_model(self, request, obj):
        workflow_delete(workflow=obj, actor=request.user)  # with its runs, audited

    def delete_queryset(self, request, queryset):
        for workflow in self.scoped(request, queryset, "delete"):
            workflow_delete(workflow=workflow, actor=request.user)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "definition" and field is not None:
            field.encoder = None
            field.widget.attrs["spellcheck"] = "false"
        return field

    # ---- list columns ------------------------------------------------------------------
    @admin.display(description="last run", ordering="last_run_at")
    def last_run(self, obj):
        if not getattr(obj, "last_run_id", None):
            return "—"
        url = reverse("admin:runs_run_change", args=[obj.last_run_id])
        return format_html('<a href="{}" class="wf-status wf-status-{}">{}</a> {}', url,
                           obj.last_run_status, obj.last_run_status,
                           obj.last_run_at.strftime("%Y-%m-%d %H:%M"))

    @admin.display(description="failure rate", ordering="failure_rate")
    def failure_rate_column(self, obj):
        if getattr(obj, "failure_rate", None) is None:
            return "—"
        return format_html('<span class="wf-rate{}" title="{} of {} runs failed">{} %</span>',
                           " wf-rate-bad" if obj.failure_rate >= 50 else "", obj.run_failed,
                           obj.run_total, f"{obj.failure_rate:.0f}")

    @admin.display(description="folder", ordering="folder__name")
    def folder_column(self, obj):
        if obj.folder_id is None:
            return "—"
        changelist = reverse("admin:workflows_workflow_changelist")
        return format_html('<a class="wf-folder-link" href="{}?folder={}">{}</a>', changelist,
                           obj.folder_id, folder_label(obj.folder))

    @admin.display(description="tags")
    def tag_list(self, obj):
        changelist = reverse("admin:workflows_workflow_changelist")
        return format_html_join(" ", '<a class="wf-tag" href="{}?tag={}">{}</a>',
                                ((changelist, t, t) for t in obj.tags or []))

    @admin.display(description="")
    def editor_link(self, obj):
        url = reverse("admin:workflows_workflow_editor", args=[obj.pk])
        runs = reverse("admin:runs_run_changelist") + f"?workflow__id__exact={obj.pk}"
        return format_html('<a href="{}">Open editor</a> · <a href="{}">Runs</a>', url, runs)

    # ---- custom pages ------------------------------------------------------------------
    def get_urls(self):
        wrap = self.admin_site.admin_view
        custom = [
            path("editor/", wrap(self.editor_view), name="workflows_workflow_editor_new"),
            path("import/", wrap(self.import_view), name="workflows_workflow_import"),
            path("ports/", wrap(self.ports_view), name="workflows_workflow_ports"),
            path("<path:object_id>/editor/", wrap(self.editor_view),
                 name="workflows_workflow_editor"),
            path("<path:object_id>/presence/", wrap(self.presence_view),
                 name="workflows_workflow_presence"),
        ]
        return custom + super().get_urls()

    def editor_view(self, request, object_id=None):
        return admin_views.editor_view(self, request,
                                       unquote(object_id) if object_id is not None else None)

    def import_view(self, request):
        return admin_views.import_view(self, request)

    def presence_view(self, request, object_id):
        return admin_views.presence_view(self, request, unquote(object_id))

    def ports_view(self, request):
        return admin_views.ports_view(self, request)

    # ---- actions -----------------------------------------------------------------------
    def _set_active(self, request, queryset, active: bool) -> None:
        changed = 0
        for workflow in self.scoped(request, queryset, "edit"):
            if workflow.is_active != active:
                workflow_update(workflow=workflow, user=request.user, is_active=active)
                changed += 1
        state = "activated" if active else "deactivated"
        self.message_user(request, f"{changed} workflow(s) {state}.", messages.SUCCESS)

    @admin.action(description="Activate selected workflows", permissions=["change"])
    def activate(self, request, queryset):
        self._set_active(request, queryset, True)

    @admin.action(description="Deactivate selected workflows", permissions=["change"])
    def deactivate(self, request, queryset):
        self._set_active(request, queryset, False)

    @admin.action(description="Duplicate selected workflows", permissions=["add"])
    def duplicate(self, request, queryset):
        for workflow in queryset:
            # The copy stays in the workflow's project when the user may edit there.
            project = (workflow.project if can(request.user, "edit", workflow.project_id)
                       else personal_project(request.user))
            copy = workflow_create(
                owner=request.user, name=f"{workflow.name} (copy)"[:200],
                definition=workflow.definition, description=workflow.description,
                is_active=False, project=project,
            )
            self.message_user(request, format_html(
                'Created <a href="{}">{}</a> (inactive).',
                reverse("admin:workflows_workflow_editor", args=[copy.pk]), copy.name,
            ), messages.SUCCESS)

    @admin.action(description="Run selected workflows now", permissions=["run"])
    def run_now(self, request, queryset):
        for workflow in self.scoped(request, queryset, "run"):
            run = run_start(workflow=workflow, input=None, trigger=Run.Trigger.MANUAL)
            self.message_user(request, format_html(
                'Started <a href="{}">run #{}</a> of {}.',
                reverse("admin:runs_run_change", args=[run.pk]), run.pk, workflow.name,
            ), messages.SUCCESS)

    @admin.action(description="Move selected workflows to a folder", permissions=["change"])
    def move_to_folder(self, request, queryset):
        return move_to_folder_page(self, request, queryset)

    @admin.action(description="Export selected workflows as JSON", permissions=["view"])
    def export_json(self, request, queryset):
        items = [admin_views.export_payload(w) for w in queryset]
        if len(items) == 1:
            data, filename = items[0], f"{slugify(items[0]['name']) or 'workflow'}.json"
        else:
            data, filename = items, "workflows.json"
        response = HttpResponse(json.dumps(data, indent=2), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class VariableForm(forms.ModelForm):
    class Meta:
        model = Variable
        fields = ["project", "key", "value"]
        help_texts = {"key": "Read in expressions as {{ vars.<key> }}.",
                      "value": "Plain text, visible to every member of the project and in run "
                               "logs: not for secrets (use a credential)."}

    def clean_key(self):
        key = self.cleaned_data["key"]
        problem = key_problem(key)
        if problem:
            raise ValidationError(problem)
        return key


@admin.register(Variable)
class VariableAdmin(ProjectScopedAdmin, admin.ModelAdmin):
    """Project variables (vars.<key> in expressions); the same rules as /api/variables."""

    visible_to = staticmethod(variables_visible_to)
    form = VariableForm
    list_display = ("key", "value", "project", "updated_at")
    list_filter = (("project", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("key", "value")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "project":  # only projects the user may edit in
            kwargs["queryset"] = projects_visible_to(request.user, "edit")
            kwargs["initial"] = personal_project(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = {k: form.cleaned_data[k] for k in ("project", "key", "value")}
        if change:  # the form already changed `obj`: the service starts from the stored one
            variable_update(variable=Variable.objects.get(pk=obj.pk), actor=request.user, **data)
        else:
            obj.pk = variable_create(actor=request.user, **data).pk

    def delete_model(self, request, obj):
        variable_delete(variable=obj, actor=request.user)
