"""Custom admin pages for workflows: the visual editor (offering the gallery's templates) and
JSON import.

The views are methods' bodies for `WorkflowAdmin.get_urls()` (wrapped in `admin_site.admin_view`
there); each re-checks the model permission and ownership (a workflow that is not yours is a
404, as in the API), and renders with `admin_site.each_context(request)` so the admin's header,
theme and sidebar stay in place.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.middleware.csrf import get_token
from django.template.response import TemplateResponse
from django.urls import reverse

from accounts.admin_access import mfa_refusal
from nodes.registry import registry
from wfaib.masking import mask

from .gallery import available_templates
from .models import Workflow, WorkflowVersion
from .services import workflow_create
from .validation import validate_definition

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

EXPORT_FORMAT = "wfaib-workflow/1"

def _url_template(name: str, *, query: str = "") -> str:
    """An admin URL with `{id}` where the object id goes (filled in by the editor's JS)."""
    return reverse(name, args=["0000"]).replace("0000", "{id}") + query


def editor_view(
    model_admin: ModelAdmin, request: HttpRequest, object_id: str | None = None
) -> HttpResponse:
    """The visual node editor for one workflow (or a new one when `object_id` is None)."""
    workflow = None
    if object_id is not None:
        workflow = model_admin.get_object(request, object_id)  # owner-scoped queryset
        if workflow is None:
            refusal = mfa_refusal(request, model_admin.model, object_id)
            if refusal is not None:
                return refusal
            raise Http404("No such workflow.")
        if not model_admin.has_change_permission(request, workflow):
            raise PermissionDenied
    elif not model_admin.has_add_permission(request):
        raise PermissionDenied
    opts = model_admin.opts
    config = {
        "workflowId": workflow.pk if workflow else None,
        "apiBase": "/api",
        "csrfToken": get_token(request),
        "editorUrlTemplate": _url_template("admin:workflows_workflow_editor"),
        "runUrlTemplate": _url_template("admin:runs_run_change"),
        "runsUrlTemplate": reverse("admin:runs_run_changelist") + "?workflow__id__exact={id}",
        "variablesUrl": reverse("admin:workflows_variable_changelist"),
        "portsUrl": reverse("admin:workflows_workflow_ports"),
        "presenceUrlTemplate": _url_template("admin:workflows_workflow_presence"),
        "templates": [] if workflow else available_templates(),
        "user": request.user.get_username(),
    }
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "original": workflow,
        "title": f"Edit {workflow.name}" if workflow else "New workflow",
        "editor_config": config,
        "has_view_permission": True,
        "is_nav_sidebar_enabled": False,  # the canvas needs the width
    }
    return TemplateResponse(request, "admin/workflows/workflow/editor.html", context)


class ImportForm(forms.Form):
    file = forms.FileField(help_text="A workflow exported from WFAIB (JSON), or a definition "
                                     "with nodes and edges.")
    name = forms.CharField(required=False, max_length=200,
                           help_text="Overrides the name in the file.")

    def clean_file(self) -> dict[str, Any]:
        upload = self.cleaned_data["file"]
        if upload.size > 2 * 1024 * 1024:
            raise forms.ValidationError("The file is larger than 2 MB.")
        try:
            data = json.loads(upload.read().decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise forms.ValidationError(f"Not a JSON file: {exc}") from exc
        if not isinstance(data, dict):
            raise forms.ValidationError("The file must hold one JSON object.")
        definition = data.get("definition", data if "nodes" in data else None)
        if not isinstance(definition, dict):
            raise forms.ValidationError("No workflow definition (nodes and edges) in the file.")
        errors = validate_definition(definition)
        if errors:
            raise forms.ValidationError(
                [f"{e['path'] or 'definition'}: {e['message']}" for e in errors]
            )
        return {
            "definition": definition,
            "name": data.get("name") or definition.get("name") or "Imported workflow",
            "description": data.get("description") or "",
        }


def import_view(model_admin: ModelAdmin, request: HttpRequest) -> HttpResponse:
    """Create a workflow from an uploaded JSON file, validated like every other save."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data["file"]
        name = form.cleaned_data["name"] or str(data["name"])[:200]
        workflow = workflow_create(owner=request.user, name=name, definition=data["definition"],
                                   description=str(data["description"]))
        messages.success(request, f"Imported “{workflow.name}” (version {workflow.version}).")
        return HttpResponseRedirect(reverse("admin:workflows_workflow_editor",
                                            args=[workflow.pk]))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "Import a workflow",
        "form": form,
        "has_view_permission": True,
    }
    return TemplateResponse(request, "admin/workflows/workflow/import.html", context)


def export_payload(workflow: Workflow) -> dict[str, Any]:
    """What "export JSON" writes and import reads back (secrets masked: a file that leaves the
    server never holds them; they are entered again after an import)."""
    return {
        "format": EXPORT_FORMAT,
        "name": workflow.name,
        "description": workflow.description,
        "version": workflow.version,
        "definition": mask(workflow.definition),
    }


def ports_view(model_admin: ModelAdmin, request: HttpRequest) -> HttpResponse:
    """POST {"nodes": [{"id", "type", "config"}]} -> {"ports": {id: [port, ...]}}: the output
    ports of nodes whose ports depend on their config (a switch's cases), so the editor draws
    them without knowing any node type."""
    if request.method != "POST":
        return JsonResponse({"code": "method_not_allowed", "message": "POST only"}, status=405)
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    try:
        nodes = json.loads(request.body or b"{}").get("nodes", [])
    except (ValueError, AttributeError):
        return JsonResponse({"code": "invalid_json", "message": "the body must be JSON"},
                            status=400)
    ports: dict[str, list[str]] = {}
    for node in nodes[:500] if isinstance(nodes, list) else []:
        if not isinstance(node, dict) or node.get("type") not in registry:
            continue
        try:
            ports[str(node.get("id"))] = list(
                registry.get(node["type"]).output_ports(node.get("config") or {}))
        except Exception:
            continue
    return JsonResponse({"ports": ports})


PRESENCE_TTL = 30  # seconds an open editor counts as present without a new heartbeat


def presence_view(model_admin: ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """Heartbeat of an open editor: POST records that this user has the workflow open and
    answers who else does, and the workflow's latest version with its author, so the editor
    can offer another person's save as soon as it lands.

    Presence lives in the cache (per workflow, a small dict of user -> last seen); it is
    advisory, so the unlocked read-modify-write is acceptable. Several web processes need a
    shared cache (CACHE_URL=redis://...) to see each other."""
    if request.method != "POST":
        return JsonResponse({"code": "method_not_allowed", "message": "POST only"}, status=405)
    workflow = model_admin.get_object(request, object_id)
    if workflow is None:
        raise Http404("No such workflow.")
    key = f"wfaib:presence:{workflow.pk}"
    now = time.time()
    seen = {uid: entry for uid, entry in (cache.get(key) or {}).items()
            if now - entry["at"] < PRESENCE_TTL}
    me = str(request.user.pk)
    seen[me] = {"email": request.user.get_username(), "at": now}
    cache.set(key, seen, PRESENCE_TTL * 2)
    latest = (WorkflowVersion.objects.filter(workflow=workflow, number=workflow.version)
              .select_related("created_by").first())
    author = latest.created_by if latest else None
    return JsonResponse({
        "others": sorted(e["email"] for uid, e in seen.items() if uid != me),
        "version": workflow.version,
        "version_by": author.get_username() if author else None,
        "version_by_me": bool(author and author.pk == request.user.pk),
    })
