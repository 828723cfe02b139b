"""Run admin: the runs list (status, trigger, duration, filters) and the run viewer, a page with
the timeline of the run's nodes, each node's input/output, the error on the failing node, the
pinned version, live refresh while it runs, and cancel / re-run buttons (through the API)."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin_access import ProjectScopedAdmin
from wfaib.masking import mask_text

from .admin_views import pretty_json, run_timeline
from .models import Run
from .run_graph import run_graph
from .selectors import run_files, runs_visible_to


@admin.register(Run)
class RunAdmin(ProjectScopedAdmin, admin.ModelAdmin):
    project_lookup = "workflow__project"
    visible_to = staticmethod(runs_visible_to)
    list_display = ("id", "workflow", "status_badge", "trigger", "version_number", "created_at",
                    "duration")
    list_filter = ("status", "trigger", ("workflow", admin.RelatedOnlyFieldListFilter))
    search_fields = ("workflow__name", "error", "error_node_id")
    list_select_related = ("workflow", "version")
    date_hierarchy = "created_at"
    actions = ["retry_from_failed", "retry_from_start"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("workflow", "version")

    def has_add_permission(self, request):
        return False

    def _retry(self, request, queryset, mode: str) -> None:
        from django.contrib import messages

        from .services import run_retry_bulk

        allowed = self.scoped(request, queryset, "run")
        result = run_retry_bulk(runs=list(allowed.order_by("id")), mode=mode)
        if result["retried"]:
            self.message_user(request, f"Retried {len(result['retried'])} run(s): "
                              + ", ".join(f"#{r['run']} → #{r['retry']}"
                                          for r in result["retried"]))
        for skipped in result["skipped"]:
            self.message_user(request, f"Run #{skipped['run']} not retried: {skipped['reason']}",
                              level=messages.WARNING)

    @admin.action(description="Retry selected runs from the failed node", permissions=["run"])
    def retry_from_failed(self, request, queryset):
        self._retry(request, queryset, "from_failed")

    @admin.action(description="Retry selected runs from the start", permissions=["run"])
    def retry_from_start(self, request, queryset):
        self._retry(request, queryset, "from_start")

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return format_html('<span class="wf-status wf-status-{}">{}</span>', obj.status,
                           obj.status)

    @admin.display(description="version", ordering="version__number")
    def version_number(self, obj):
        return f"v{obj.version.number}"

    @admin.display(description="duration")
    def duration(self, obj):
        ms = obj.duration_ms
        if ms is None:
            return "—"
        return f"{ms} ms" if ms < 10_000 else f"{ms / 1000:.1f} s"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The run viewer (replaces the read-only form)."""
        run = self.get_object(request, unquote(object_id))  # project-scoped queryset
        if run is None:
            refusal = self.mfa_refusal(request, object_id)
            if refusal is not None:
                return refusal
            raise Http404("No such run.")
        if not self.has_view_permission(request, run):
            raise Http404("No such run.")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": run,
            "run": run,
            "title": f"Run #{run.pk} of {run.workflow.name}",
            "timeline": run_timeline(run),
            "graph": run_graph(run.version.definition, run.logs.order_by("id")),
            "run_files": run_files(run),
            "run_error": mask_text(run.error),
            "input_json": pretty_json(run.input),
            "result_json": pretty_json(run.result),
            "editor_url": reverse("admin:workflows_workflow_editor", args=[run.workflow_id]),
            "runs_url": reverse("admin:runs_run_changelist")
            + f"?workflow__id__exact={run.workflow_id}",
            "has_view_permission": True,
            "can_run": self.has_run_permission(request, run),  # a viewer gets no buttons
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/runs/run/viewer.html", context)

