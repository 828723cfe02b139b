"""Credential admin: the form is generated from the kind's JSON Schema
(workflows.credential_kinds); secret inputs are write-only (never rendered back; left blank,
the stored value stays); "test connection" per credential; deleting one in use is refused
with the workflows that use it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from accounts.access import personal_project, projects_visible_to
from accounts.admin_access import ProjectScopedAdmin

from .credential_kinds import KINDS, CredentialDataInvalid, Kind, is_external, validate_data
from .models import Credential
from .selectors import credentials_visible_to
from .services import (
    CredentialInUse,
    credential_create,
    credential_delete,
    credential_update,
)

PREFIX = "data__"
DEFAULT_KIND = "api_key_header"


def _field_for(name: str, spec: dict[str, Any], required: bool) -> forms.Field:
    label = spec.get("title", name)
    help_text = spec.get("description", "")
    if spec.get("x-secret"):
        return forms.CharField(label=label, required=False, help_text=help_text or (
            "Write-only: leave blank to keep the stored value."),
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}))
    if "enum" in spec:
        choices = [("", "---------")] * (not required) + [(v, v) for v in spec["enum"]]
        return forms.ChoiceField(label=label, choices=choices, required=required,
                                 initial=spec.get("default"))
    kind = spec.get("type")
    if kind == "integer":
        return forms.IntegerField(label=label, required=required, initial=spec.get("default"))
    if kind == "boolean":
        return forms.BooleanField(label=label, required=False, initial=spec.get("default"))
    if kind == "number" or kind == ["number", "null"]:
        return forms.FloatField(label=label, required=False)
    return forms.CharField(label=label, required=required, initial=spec.get("default"),
                           help_text=help_text, max_length=2000)


class CredentialForm(forms.ModelForm):
    """Name, project, and one input per field of the kind's schema (built by `for_kind`)."""

    kind_spec: Kind
    default_project = None  # set per request by CredentialAdmin.get_form

    class Meta:
        model = Credential
        fields = ["name", "project"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stored = self.instance.data if self.instance.pk else {}
        for name, spec in self.kind_spec.properties.items():
            field, value = self.fields[PREFIX + name], stored.get(name)
            if is_external(value):
                field.help_text = f"Now read at run time from {value}; enter a value to replace."
                field.required = False
            elif value is not None and not spec.get("x-secret"):
                self.initial[PREFIX + name] = value

    def clean_project(self) -> Any:
        return self.cleaned_data.get("project") or self.default_project

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        stored = self.instance.data if self.instance.pk else {}
        data: dict[str, Any] = {}
        for name, spec in self.kind_spec.properties.items():
            value = cleaned.get(PREFIX + name)
            if value in (None, "") and name in stored and (
                    spec.get("x-secret") or is_external(stored[name])):
                value = stored[name]  # left blank: keep what is stored
            if value not in (None, ""):
                data[name] = value
            elif spec.get("type") == "boolean":
                data[name] = bool(value)
        try:
            validate_data(self.kind_spec.name, data)
        except CredentialDataInvalid as exc:
            for name, problems in exc.errors.items():
                target = PREFIX + name if PREFIX + name in self.fields else None
                for problem in problems:
                    self.add_error(target, problem)
        cleaned["data"] = data
        return cleaned


def form_for(kind: Kind) -> type[CredentialForm]:
    """The form of one kind: an input per field of its schema (secrets write-only)."""
    fields = {PREFIX + name: _field_for(name, spec, name in kind.required
                                        and not spec.get("x-secret"))
              for name, spec in kind.properties.items()}
    return type(f"CredentialForm_{kind.name}", (CredentialForm,),
                {"kind_spec": kind, **fields})


@admin.register(Credential)
class CredentialAdmin(ProjectScopedAdmin, admin.ModelAdmin):
    visible_to = staticmethod(credentials_visible_to)
    list_display = ["name", "kind", "project", "owner", "updated_at", "test_link"]
    list_filter = ["kind"]
    search_fields = ["name"]
    actions = None

    def _kind(self, request: Any, obj: Credential | None) -> Kind | None:
        name = obj.kind if obj is not None else request.GET.get("kind", "")
        return KINDS.get(name)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kind = self._kind(request, obj) or KINDS[DEFAULT_KIND]
        kwargs["form"] = form_for(kind)
        kwargs["fields"] = ["name", "project", *(PREFIX + n for n in kind.properties)]
        form = super().get_form(request, obj, change=change, **kwargs)
        form.default_project = personal_project(request.user)
        return form

    def get_fieldsets(self, request, obj=None):
        kind = self._kind(request, obj) or KINDS[DEFAULT_KIND]
        return [(None, {"fields": ["name", "project"]}),
                (f"{kind.label} ({kind.name})", {"fields": [PREFIX + n for n in kind.properties],
                                                 "description": kind.description})]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "project":
            kwargs["queryset"] = projects_visible_to(request.user, "edit")
            kwargs["initial"] = personal_project(request.user)
            kwargs["required"] = False
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def add_view(self, request, form_url="", extra_context=None):
        if request.method == "GET" and self._kind(request, None) is None:
            return TemplateResponse(request, "admin/workflows/credential/kinds.html", {
                **self.admin_site.each_context(request), "opts": self.model._meta,
                "title": "Add credential: choose its kind", "kinds": list(KINDS.values())})
        return super().add_view(request, form_url, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and obj.kind not in KINDS:
            messages.warning(request, f"Kind {obj.kind!r} is not a typed kind; its data can "
                                      "be changed through the API only.")
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data["data"]
        project = form.cleaned_data.get("project")
        if change:
            saved = credential_update(credential=obj, name=form.cleaned_data["name"],
                                      project=project or obj.project, data=data)
        else:
            saved = credential_create(owner=request.user, name=form.cleaned_data["name"],
                                      kind=self._kind(request, None).name,  # type: ignore
                                      data=data, project=project)
        obj.pk = saved.pk

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and request.method == "POST":
            try:
                credential_delete(credential=obj)
            except CredentialInUse as exc:
                messages.error(request, exc.message)
                return HttpResponseRedirect(
                    reverse("admin:workflows_credential_change", args=[obj.pk]))
            messages.success(request, f"The credential {obj.name!r} was deleted.")
            return HttpResponseRedirect(reverse("admin:workflows_credential_changelist"))
        return super().delete_view(request, object_id, extra_context)

    def get_urls(self):
        return [path("<path:object_id>/test/", self.admin_site.admin_view(self.test_view),
                     name="workflows_credential_test"), *super().get_urls()]

    @admin.display(description="Test")
    def test_link(self, obj):
        return format_html('<a href="{}">test connection</a>',
                           reverse("admin:workflows_credential_test", args=[obj.pk]))

    def test_view(self, request, object_id):
        """GET: the form; POST: run the kind's connection test and show its message (never a
        secret), or (an oauth2 authorization-code credential) go connect it at the provider.
        Its project's editors only (as the API)."""
        from runs.credential_checks import check_credential

        obj = self.get_object(request, object_id)
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        if not self.allows(request, obj, "edit"):
            raise PermissionDenied
        url, result = request.POST.get("url", "").strip(), None
        if request.method == "POST" and "connect" in request.POST:
            from runs.oauth2_connect import ConnectRefused, connect_start

            try:
                return HttpResponseRedirect(connect_start(obj, back="admin"))
            except ConnectRefused as exc:
                result = {"ok": False, "message": exc.message}
        elif request.method == "POST":
            if url and not url.startswith(("http://", "https://")):
                result = {"ok": False, "message": "the URL must start with http:// or https://"}
            else:
                result = check_credential(obj, url=url or None)
        return TemplateResponse(request, "admin/workflows/credential/test.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta,
            "title": f"Test connection: {obj.name}", "original": obj, "result": result,
            "url": url})
