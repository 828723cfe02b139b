"""Run admin: the runs list and a run page with every node's log."""

from django.contrib import admin

from .models import Run, RunLog


class RunLogInline(admin.TabularInline):
    model = RunLog
    fields = ("node_id", "node_type", "status", "attempt", "duration_ms", "input", "output",
              "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ("id", "workflow", "status", "trigger", "created_at", "duration_ms")
    list_filter = ("status", "trigger")
    search_fields = ("workflow__name", "error")
    readonly_fields = [f.name for f in Run._meta.fields]
    inlines = [RunLogInline]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("workflow", "version")
        return qs if request.user.is_superuser else qs.filter(workflow__owner=request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
