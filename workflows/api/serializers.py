"""Request and response shapes of the workflows API."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.access import default_project, projects_visible_to, token_of
from accounts.models import Project
from wfaib.masking import mask
from wfaib.webhook_origin import webhook_url

from ..credential_kinds import KINDS, CredentialDataInvalid, validate_data
from ..folders import folders_visible_to
from ..models import Credential, Folder, Workflow, WorkflowVersion
from ..selectors import workflows_visible_to
from ..tags import clean_tags
from ..webhook_paths import check_webhook_path


def project_field(help_text: str) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(
        queryset=Project.objects.none(), required=False, help_text=help_text)


def scope_project_field(serializer: serializers.Serializer) -> None:
    """Only projects the requesting user belongs to are valid choices (others: 400)."""
    request = serializer.context.get("request")
    if request is not None and request.user.is_authenticated and "project" in serializer.fields:
        serializer.fields["project"].queryset = projects_visible_to(
            request.user, token=token_of(request.auth))

# The WorkflowDefinition keys a create or update may send at the top level.
DEFINITION_KEYS = ("nodes", "edges")


class WorkflowSerializer(serializers.ModelSerializer):
    """A workflow. The definition goes under `definition` or, in the spec's shape, as
    top-level `nodes` and `edges` beside `name`; unknown fields answer 400. `webhook_secret`
    is write-only: set it here or generate one with `POST /api/workflows/{id}/rotate-secret`;
    it is never returned. On update, `version` (or an `If-Match` header) is the version the
    change was based on."""

    owner = serializers.EmailField(source="owner.email", read_only=True, allow_null=True,
                                   default=None, help_text="Who created it (null once that "
                                                           "account is deleted).")
    version = serializers.IntegerField(
        required=False, min_value=0,
        help_text="Read: the current version. Write (PUT/PATCH): the version this change was "
                  "based on; a stale one answers 409.")
    definition = serializers.JSONField(
        required=False,
        help_text="The WorkflowDefinition {name, nodes, edges}; validated on every save. "
                  "Defaults to a single webhook trigger on create. `nodes` and `edges` may "
                  "also be sent at the top level instead.")
    webhook_secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=200,
        style={"input_type": "password"})
    max_concurrency = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    retention_days = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=100_000,
        help_text="Finished runs older than this many days are deleted (0 = keep; null = the "
                  "deployment's WFAIB_RUN_RETENTION_DAYS).")
    retention_max_runs = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=100_000_000,
        help_text="Finished runs kept, newest first (0 = no cap; null = the deployment's "
                  "WFAIB_RUN_RETENTION_MAX_RUNS).")
    monthly_token_budget = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=10**15,
        help_text="Most model tokens this workflow may use a month (null: no limit).")
    monthly_cost_budget = serializers.DecimalField(
        required=False, allow_null=True, max_digits=12, decimal_places=4, min_value=0,
        coerce_to_string=False,
        help_text="Most estimated USD of model calls a month (null: no limit).")
    error_workflow = serializers.PrimaryKeyRelatedField(
        queryset=Workflow.objects.none(), required=False, allow_null=True,
        help_text="A workflow of yours started with the details whenever a run of this fails.")
    folder = serializers.PrimaryKeyRelatedField(
        queryset=Folder.objects.none(), required=False, allow_null=True,
        help_text="The folder of the workflow list it sits in (null: the top level); a "
                  "folder of the workflow's project (GET /api/folders).")
    webhook_url = serializers.SerializerMethodField()
    project = project_field("The project the workflow belongs to (default: your personal "
                            "project). Changing it moves the workflow; you must be able to "
                            "edit in both projects.")

    class Meta:
        model = Workflow
        fields = ["id", "name", "description", "definition", "is_active", "version", "owner",
                  "project", "webhook_auth", "webhook_mode", "webhook_secret", "webhook_path",
                  "max_concurrency", "retention_days", "retention_max_runs", "error_workflow",
                  "monthly_token_budget", "monthly_cost_budget", "tags", "folder",
                  "webhook_url", "created_at", "updated_at"]
        read_only_fields = ["id", "owner", "webhook_url", "created_at", "updated_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["error_workflow"].queryset = workflows_visible_to(
                request.user, token=token_of(request.auth))
            self.fields["folder"].queryset = folders_visible_to(
                request.user, token=token_of(request.auth))
        scope_project_field(self)

    @extend_schema_field(OpenApiTypes.URI)
    def get_webhook_url(self, workflow: Workflow) -> str:
        return webhook_url(self.context.get("request"), workflow.pk)

    def to_representation(self, instance: Workflow) -> dict[str, Any]:
        data = super().to_representation(instance)
        if "definition" in data:
            data["definition"] = mask(data["definition"])
        return data

    def to_internal_value(self, data: Any) -> Any:
        """Accept the WorkflowDefinition shape at the top level ({name, nodes, edges}) as well
        as under `definition`; refuse fields this resource does not have (400, named) rather
        than drop them."""
        if isinstance(data, dict):
            data = self._lift_definition(data)
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["unknown field; see the Workflow schema at /api/schema/"]
                     for name in unknown})
        return super().to_internal_value(data)

    def _lift_definition(self, data: dict[str, Any]) -> dict[str, Any]:
        top = {key: data[key] for key in DEFINITION_KEYS if key in data}
        if not top:
            return data
        if "definition" in data:
            raise serializers.ValidationError(
                {key: ["send the nodes and edges either at the top level or under "
                       "`definition`, not both"] for key in top})
        data = {key: value for key, value in data.items() if key not in DEFINITION_KEYS}
        current = self.instance.definition if self.instance is not None else {}
        name = data.get("name") or (self.instance.name if self.instance is not None else "")
        data["definition"] = {**current, "name": name,
                              "nodes": top.get("nodes", current.get("nodes", [])),
                              "edges": top.get("edges", current.get("edges", []))}
        return data

    def validate_tags(self, value: Any) -> list[str]:
        try:
            return clean_tags(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_webhook_path(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return check_webhook_path(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_error_workflow(self, value: Workflow | None) -> Workflow | None:
        if value is not None and self.instance is not None and value.pk == self.instance.pk:
            raise serializers.ValidationError("a workflow cannot be its own error workflow")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        error_workflow = attrs.get("error_workflow", getattr(self.instance, "error_workflow",
                                                             None))
        project = attrs.get("project") or getattr(self.instance, "project", None)
        if project is None and error_workflow is not None:
            request = self.context["request"]
            project = default_project(request.user, token=token_of(request.auth))
        if error_workflow is not None and project is not None \
                and error_workflow.project_id != project.pk:
            raise serializers.ValidationError(
                {"error_workflow": ["the error workflow must be in the same project"]})
        self._validate_folder(attrs)
        return attrs

    def _validate_folder(self, attrs: dict[str, Any]) -> None:
        """The folder must be of the workflow's project (the one it moves to, if it moves;
        moving without naming a folder leaves the folder: workflows.services)."""
        folder = attrs.get("folder")
        if folder is None:
            return
        project = attrs.get("project") or getattr(self.instance, "project", None)
        if project is None:
            request = self.context["request"]
            project = default_project(request.user, token=token_of(request.auth))
        if folder.project_id != project.pk:
            raise serializers.ValidationError(
                {"folder": ["the folder must be in the workflow's project"]})


def default_definition(name: str) -> dict[str, Any]:
    return {"name": name, "nodes": [{"id": "trigger", "type": "webhook", "config": {},
                                     "position": {"x": 0, "y": 0}}], "edges": []}


class WorkflowVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.EmailField(source="created_by.email", read_only=True,
                                        allow_null=True, default=None)

    class Meta:
        model = WorkflowVersion
        fields = ["number", "definition", "created_by", "created_at"]

    def to_representation(self, instance: WorkflowVersion) -> dict[str, Any]:
        data = super().to_representation(instance)
        if "definition" in data:
            data["definition"] = mask(data["definition"])
        return data


class WorkflowVersionSummarySerializer(WorkflowVersionSerializer):
    class Meta(WorkflowVersionSerializer.Meta):
        fields = ["number", "created_by", "created_at"]


class RotatedSecretSerializer(serializers.Serializer):
    webhook_secret = serializers.CharField(help_text="The new secret, shown only this once.")
    previous_secret_valid_until = serializers.DateTimeField(
        allow_null=True, help_text="Until when the previous secret is still accepted.")


class RunInputSerializer(serializers.Serializer):
    input = serializers.JSONField(required=False, allow_null=True, default=None,
                                  help_text="The trigger payload the run starts with.")


class CredentialSerializer(serializers.ModelSerializer):
    """A credential. `kind` is one of GET /api/credential-kinds; `data` (a JSON object valid
    for the kind's schema; a field may be {"$env": "NAME"} or {"$vault": "path#key"}) is
    write-only and stored encrypted."""

    owner = serializers.EmailField(source="owner.email", read_only=True, allow_null=True,
                                   default=None, help_text="Who created it (null once that "
                                                           "account is deleted).")
    data = serializers.DictField(write_only=True, help_text="The secret values; never returned.")
    project = project_field("The project the credential belongs to (default: your personal "
                            "project). Changing it moves the credential.")
    shared_with = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True,
        help_text="Projects that may use it in their nodes (POST/DELETE .../shares).")

    class Meta:
        model = Credential
        fields = ["id", "name", "kind", "owner", "project", "shared_with", "data", "created_at",
                  "updated_at"]
        read_only_fields = ["id", "owner", "shared_with", "created_at", "updated_at"]
        validators: list = []  # the name per project is checked in validate()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope_project_field(self)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        name = attrs.get("name", getattr(self.instance, "name", None))
        project = attrs.get("project") or getattr(self.instance, "project", None)
        if project is None:
            request = self.context["request"]
            project = default_project(request.user, token=token_of(request.auth))
        taken = Credential.objects.filter(project=project, name=name)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError(
                {"name": ["the project already has a credential with this name"]})
        self._validate_data(attrs)
        return attrs

    def _validate_data(self, attrs: dict[str, Any]) -> None:
        """A new kind must be a typed one; the data must fit the kind's schema (a credential
        kept from before kinds were typed is not checked until its kind changes)."""
        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        changed_kind = self.instance is None or kind != self.instance.kind
        if changed_kind and kind not in KINDS:
            raise serializers.ValidationError(
                {"kind": [f"unknown kind {kind!r}; one of {', '.join(KINDS)}"]})
        if "data" not in attrs and not changed_kind:
            return
        data = attrs["data"] if "data" in attrs else self.instance.data
        try:
            validate_data(kind, data)
        except CredentialDataInvalid as exc:
            raise serializers.ValidationError(
                {"data": {name or "non_field_errors": messages
                          for name, messages in exc.errors.items()}}) from None


class CredentialShareSerializer(serializers.Serializer):
    project = serializers.PrimaryKeyRelatedField(
        queryset=Project.objects.all(),
        help_text="The project whose members may use the credential (never read it).")


class CredentialTestSerializer(serializers.Serializer):
    url = serializers.URLField(required=False, max_length=2000,
                               help_text="HTTP kinds: the URL to GET with the credential "
                                         "applied (default: the kind's own); openai and "
                                         "anthropic: the base URL.")


class CredentialTestResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    message = serializers.CharField(help_text="What happened; never holds a secret.")


class OAuth2ConnectSerializer(serializers.Serializer):
    authorize_url = serializers.URLField(help_text="Send the user's browser here.")
    redirect_uri = serializers.URLField(help_text="Register this at the provider.")


class CredentialKindSerializer(serializers.Serializer):
    """A typed credential kind (workflows.credential_kinds)."""

    kind = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    schema = serializers.DictField(help_text="JSON Schema of the credential's data; secret "
                                             "fields carry x-secret (write-only).")
    secret_fields = serializers.ListField(child=serializers.CharField())


class NodeTypeSerializer(serializers.Serializer):
    """A node type's description (nodes.base.NodeType.describe())."""

    type = serializers.CharField()
    label = serializers.CharField()
    category = serializers.CharField()
    description = serializers.CharField()
    icon = serializers.CharField()
    inputs = serializers.ListField(child=serializers.CharField())
    outputs = serializers.ListField(child=serializers.CharField())
    is_trigger = serializers.BooleanField()
    secret_fields = serializers.ListField(child=serializers.CharField())
    timeout = serializers.FloatField()
    config_schema = serializers.DictField(help_text="JSON Schema of the node's config.")
    output_schema = serializers.DictField(
        allow_null=True, help_text="JSON Schema of the node's output where the type declares it "
        "(the editor completes `nodes.<id>.` from it before a run); null: not declared.")


class TemplateSerializer(serializers.Serializer):
    """A gallery template (workflows/gallery/*.json)."""

    key = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    services = serializers.ListField(child=serializers.CharField(),
                                     help_text="What it calls outside the run: http, llm.")
    sample_input = serializers.JSONField(allow_null=True, help_text="An input it runs with.")
    definition = serializers.DictField(help_text="The WorkflowDefinition to create it from.")
