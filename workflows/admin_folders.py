"""Folders in the admin: the Folder admin (the same rules as /api/folders), the workflow list's
folder filter with its breadcrumb and subfolders (`?folder=<id>`, `?folder=top`), and the
"Move selected workflows to a folder" action with its confirmation page.

A folder holding workflows or subfolders is not deleted: its delete page says so and sends
the user back, as the API's 409 `folder_not_empty`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from accounts.access import personal_project, projects_visible_to
from accounts.admin_access import ProjectScopedAdmin

from .folders import (
    FolderInvalid,
    folder_create,
    folder_delete,
    folder_path,
    folder_update,
    folders_visible_to,
)
from .models import Folder, Workflow
from .services import workflow_update

TOP = "top"


def folder_label(folder: Folder) -> str:
    return " / ".join(f.name for f in folder_path(folder))


class FolderFilter(admin.SimpleListFilter):
    """`?folder=<id>`: the workflows directly in that folder; `?folder=top`: those in none."""

    title = "folder"
    parameter_name = "folder"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        folders = folders_visible_to(request.user).select_related("parent")
        choices = sorted((folder_label(f), str(f.pk)) for f in folders)
        return [(TOP, "(top level)"), *((pk, label) for label, pk in choices)]

    def queryset(self, request: Any, queryset: QuerySet[Workflow]) -> QuerySet[Workflow]:
        value = self.value()
        if not value:
            return queryset
        if value == TOP:
            return queryset.filter(folder__isnull=True)
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(folder_id=int(value))


def folder_bar(request: HttpRequest) -> dict[str, Any]:
    """The breadcrumb and subfolders above the workflow list, for the folder it shows."""
    value = request.GET.get("folder", "")
    visible = folders_visible_to(request.user)
    current = visible.filter(pk=int(value)).first() if value.isdigit() else None
    if value and value != TOP and current is None:
        return {"folder_bar": {"missing": True}}
    opened = value == TOP or current is not None
    children = (visible.filter(parent=current) if current is not None
                else visible.filter(parent__isnull=True))
    add = reverse("admin:workflows_folder_add")
    if current is not None:
        add += f"?parent={current.pk}&project={current.project_id}"
    return {"folder_bar": {"opened": opened, "current": current,
                           "path": folder_path(current), "children": children.order_by(
                               "project__name", "name"), "add_url": add}}


class FolderForm(forms.ModelForm):
    class Meta:
        model = Folder
        fields = ["project", "parent", "name"]
        help_texts = {"name": "Unique among its siblings; no slashes.",
                      "parent": "Empty: the project's top level. A folder of the same project."}

    def clean(self):
        data = super().clean()
        project, parent = data.get("project"), data.get("parent")
        if self.instance.pk:
            project = self.instance.project
        if project is not None and parent is not None and parent.project_id != project.pk:
            raise ValidationError({"parent": "the parent folder must be in the same project"})
        return data


@admin.register(Folder)
class FolderAdmin(ProjectScopedAdmin, admin.ModelAdmin):
    """Folders of the workflow list; the same rules as /api/folders."""

    visible_to = staticmethod(folders_visible_to)
    form = FolderForm
    list_display = ("label", "project", "workflows_link")
    list_filter = (("project", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("name",)

    @admin.display(description="folder", ordering="name")
    def label(self, obj: Folder) -> str:
        return folder_label(obj)

    @admin.display(description="")
    def workflows_link(self, obj: Folder) -> str:
        from django.utils.html import format_html

        url = reverse("admin:workflows_workflow_changelist") + f"?folder={obj.pk}"
        return format_html('<a href="{}">Open</a>', url)

    def get_readonly_fields(self, request, obj=None):
        return ("project",) if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "project":  # only projects the user may edit in
            kwargs["queryset"] = projects_visible_to(request.user, "edit")
            kwargs["initial"] = personal_project(request.user)
        if db_field.name == "parent":
            kwargs["queryset"] = folders_visible_to(request.user, "edit")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if change:
                saved = folder_update(folder=Folder.objects.get(pk=obj.pk), actor=request.user,
                                      name=data["name"], parent=data.get("parent"))
            else:
                saved = folder_create(project=data["project"], name=data["name"],
                                      parent=data.get("parent"), actor=request.user)
        except FolderInvalid as exc:  # raced past the form's checks: say so, change nothing
            self.message_user(request, exc.message, messages.ERROR)
            return
        obj.pk = saved.pk

    def delete_view(self, request, object_id, extra_context=None):
        folder = self.get_object(request, object_id)
        if folder is not None and (folder.workflows.exists() or folder.children.exists()):
            self.message_user(request, f"Folder {folder.name!r} still holds workflows or "
                                       "subfolders: move or delete them first.", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:workflows_folder_change",
                                                args=[folder.pk]))
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        folder_delete(folder=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for folder in self.scoped(request, queryset, "delete"):
            if folder.workflows.exists() or folder.children.exists():
                self.message_user(request, f"Kept {folder.name!r}: not empty.", messages.WARNING)
                continue
            folder_delete(folder=folder, actor=request.user)


class MoveForm(forms.Form):
    target_folder = forms.ChoiceField(label="Move to")


def move_to_folder_page(model_admin: Any, request: HttpRequest,
                   queryset: QuerySet[Workflow]) -> TemplateResponse | None:
    """The action: a page to pick the folder, then each workflow the user may edit moves
    there (those of another project than the folder's stay, with a warning)."""
    folders = folders_visible_to(request.user, "edit")
    choices = [(TOP, "(top level of its project)"),
               *sorted(((str(f.pk), folder_label(f)) for f in folders), key=lambda c: c[1])]
    form = MoveForm(request.POST if "apply" in request.POST else None)
    form.fields["target_folder"].choices = choices
    if "apply" in request.POST and form.is_valid():
        value = form.cleaned_data["target_folder"]
        target = None if value == TOP else folders.get(pk=int(value))
        moved, skipped = 0, []
        for workflow in model_admin.scoped(request, queryset, "edit"):
            if target is not None and workflow.project_id != target.project_id:
                skipped.append(workflow.name)
                continue
            if workflow.folder_id != (target.pk if target else None):
                workflow_update(workflow=workflow, user=request.user, folder=target)
            moved += 1
        where = folder_label(target) if target else "the top level"
        model_admin.message_user(request, f"{moved} workflow(s) moved to {where}.",
                                 messages.SUCCESS)
        if skipped:
            model_admin.message_user(
                request, f"Not moved (another project than the folder's): "
                         f"{', '.join(skipped)}.", messages.WARNING)
        return None
    context = {**model_admin.admin_site.each_context(request), "title": "Move to a folder",
               "opts": model_admin.model._meta, "form": form, "workflows": queryset,
               "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME}
    return TemplateResponse(request, "admin/workflows/workflow/move_to_folder.html", context)
