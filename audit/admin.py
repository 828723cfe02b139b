"""The audit trail in the admin: searchable and filterable, never editable. No one may add,
change or delete an event here (not even a superuser); only `prune_audit` removes old ones.
A staff user sees the events `audit.selectors.events_visible_to` allows."""

import json

from django.contrib import admin
from django.utils.html import format_html

from wfaib.masking import mask

from .models import AuditEvent
from .selectors import events_visible_to


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor_repr", "action", "object_type", "object_id",
                    "object_repr", "ip", "via")
    list_filter = ("action", "object_type", "via")
    search_fields = ("actor_repr", "object_repr", "object_id", "ip")
    date_hierarchy = "created_at"
    fields = ("created_at", "actor", "actor_repr", "action", "object_type", "object_id",
              "object_repr", "ip", "via", "pretty_diff", "pretty_extra")
    readonly_fields = fields
    list_select_related = ("actor",)

    def get_queryset(self, request):
        return events_visible_to(request.user)

    def has_module_permission(self, request):
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request, obj=None):
        return bool(request.user.is_active and request.user.is_staff)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="diff")
    def pretty_diff(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(mask(obj.diff), indent=2, default=str))

    @admin.display(description="extra")
    def pretty_extra(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(mask(obj.extra), indent=2, default=str))
