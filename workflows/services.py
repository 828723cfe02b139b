"""Writes to workflows and credentials. Every save validates the definition and records a
WorkflowVersion. Who may call these is decided by the doors through `workflows.selectors`;
`project` defaults to the creator's personal project."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from accounts.access import personal_project
from accounts.models import Project
from audit.services import audit_record, json_diff
from nodes.versions import stamp_versions
from wfaib.errors import DomainError
from wfaib.masking import keep_secrets

from .folders import check_workflow_folder
from .models import Credential, Workflow, WorkflowVersion
from .validation import ensure_valid


class WebhookPathTaken(DomainError):
    """Another workflow took the custom webhook path meanwhile (the serializer checks first;
    this is the database's word when two saves race)."""

    code = "webhook_path_taken"

    def __init__(self) -> None:
        super().__init__("webhook_path: another workflow already has this path")


def _saved(save: Any) -> Any:
    """`save()`, with a taken webhook path answered as WebhookPathTaken."""
    try:
        with transaction.atomic():
            return save()
    except IntegrityError as exc:
        if "webhook_path" in str(exc):
            raise WebhookPathTaken() from None
        raise


class VersionConflict(DomainError):
    """The workflow was saved by someone else since the version the update was based on."""

    code, status = "version_conflict", 409

    def __init__(self, current: int):
        super().__init__(f"the workflow is at version {current}")
        self.current = current

    @property
    def message(self) -> str:
        return (f"the workflow was saved by someone else since; it is at version "
                f"{self.current}. Reload it, reapply your change and save again.")

    def extra(self) -> dict[str, Any]:
        return {"current_version": self.current}


def _snapshot(workflow: Workflow, user: Any) -> WorkflowVersion:
    workflow.version += 1
    return WorkflowVersion.objects.create(
        workflow=workflow, number=workflow.version, definition=workflow.definition,
        created_by=user if getattr(user, "pk", None) else None,
    )


@transaction.atomic
def workflow_create(
    *, owner: Any, name: str, definition: dict[str, Any], description: str = "",
    is_active: bool = True, project: Project | None = None, **options: Any,
) -> Workflow:
    """`owner` is the creator; `project` defaults to their personal project. `options`:
    further Workflow fields (webhook_auth, webhook_mode, max_concurrency, ...)."""
    definition = stamp_versions(definition)
    ensure_valid(definition)
    definition = {**definition, "name": definition.get("name") or name}
    check_workflow_folder(options.get("folder"), project or personal_project(owner))
    workflow = _saved(lambda: Workflow.objects.create(
        owner=owner, project=project or personal_project(owner), name=name,
        description=description, definition=definition, is_active=is_active, **options,
    ))
    _snapshot(workflow, owner)
    workflow.save(update_fields=["version"])
    audit_record(action="workflow.create", obj=workflow, actor=owner,
                 diff=json_diff({}, _audited_fields(workflow)))
    return workflow


# Workflow fields whose changes the audit trail records (secrets only as "changed").
_AUDITED = ("name", "description", "is_active", "definition", "webhook_auth", "webhook_mode",
            "webhook_secret", "webhook_path", "max_concurrency", "error_workflow_id",
            "project_id", "retention_days", "retention_max_runs", "monthly_token_budget",
            "monthly_cost_budget")


def _audited_fields(workflow: Workflow) -> dict[str, Any]:
    return {f: _plain(getattr(workflow, f)) for f in _AUDITED if hasattr(workflow, f)}


def _plain(value: Any) -> Any:
    """A value as the audit trail's JSON stores it (a Decimal budget as its text)."""
    return str(value) if isinstance(value, Decimal) else value


def _copy_fields(source: Workflow, target: Workflow) -> None:
    """Give the caller's instance the saved values of the locked copy (a service that locks
    the row writes through its own instance; the caller keeps using theirs)."""
    for field in Workflow._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


@transaction.atomic
def workflow_update(
    *, workflow: Workflow, user: Any, base_version: int | None = None, **changes: Any
) -> Workflow:
    """Apply `changes` (name, description, definition, is_active, settings, project). Any change
    is a new version, so with `base_version` a save based on an older state, of the definition
    or of anything else, is refused (VersionConflict) instead of silently undoing another."""
    locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
    if base_version is not None and base_version != locked.version:
        raise VersionConflict(locked.version)
    before = _audited_fields(locked)
    folder_before = locked.folder_id
    definition = changes.pop("definition", None)
    if definition is not None:  # a definition shown masked comes back masked
        definition = stamp_versions(keep_secrets(definition, locked.definition))
    if "project" in changes and changes["project"] is not None and "folder" not in changes \
            and changes["project"].pk != locked.project_id:
        changes["folder"] = None  # moved to another project: to its top level
    for key, value in changes.items():
        setattr(locked, key, value)
    check_workflow_folder(locked.folder, locked.project)
    if definition is not None and definition != locked.definition:
        ensure_valid(definition)
        locked.definition = definition
    diff = json_diff(before, _audited_fields(locked))
    if diff:
        _snapshot(locked, user)
    _saved(locked.save)
    if diff:
        audit_record(action="workflow.update", obj=locked, actor=user, diff=diff,
                     extra={"version": locked.version})
    if folder_before != locked.folder_id:  # list order, not the workflow: no new version
        audit_record(action="workflow.folder", obj=locked, actor=user,
                     extra={"from_folder": folder_before, "to_folder": locked.folder_id})
    if before["project_id"] != locked.project_id:
        audit_record(action="workflow.move", obj=locked, actor=user,
                     extra={"from_project": before["project_id"], "to_project": locked.project_id})
    _copy_fields(locked, workflow)
    return locked


_VERSIONS: dict[tuple[Any, ...], WorkflowVersion] = {}
_VERSIONS_MAX = 512


def current_version(workflow: Workflow) -> WorkflowVersion:
    """The workflow's current version. Versions never change once saved, so each is read from
    the database once per process (the webhook hot path saves a query per run). The key holds
    the creation time too, so a reused primary key (SQLite test rollbacks) never matches."""
    key = (workflow.pk, workflow.version, workflow.created_at)
    found = _VERSIONS.get(key)
    if found is None:
        found = WorkflowVersion.objects.get(workflow=workflow, number=workflow.version)
        if len(_VERSIONS) >= _VERSIONS_MAX:
            _VERSIONS.clear()
        _VERSIONS[key] = found
    return found


@transaction.atomic
def workflow_delete(*, workflow: Workflow, actor: Any = None) -> None:
    """Delete a workflow with its runs and versions (runs protect the versions they pinned,
    so they go first)."""
    audit_record(action="workflow.delete", obj=workflow, actor=actor,
                 diff=json_diff(_audited_fields(workflow), {}),
                 extra={"version": workflow.version})
    workflow.runs.all().delete()
    workflow.delete()


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    import base64
    import secrets

    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@transaction.atomic
def workflow_rotate_secret(*, workflow: Workflow) -> str:
    """Give the workflow a new webhook secret; the old one keeps working for the grace period
    (WFAIB["WEBHOOK_SECRET_GRACE"]) counted from now. Returns the new secret."""
    from django.utils import timezone

    locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
    locked.webhook_previous_secret = locked.webhook_secret
    locked.webhook_secret = new_webhook_secret()
    locked.webhook_secret_rotated_at = timezone.now()
    locked.save(update_fields=["webhook_secret", "webhook_previous_secret",
                               "webhook_secret_rotated_at", "updated_at"])
    _copy_fields(locked, workflow)
    return locked.webhook_secret


@transaction.atomic
def credential_create(*, owner: Any, name: str, kind: str, data: dict[str, Any],
                      project: Project | None = None) -> Credential:
    credential = Credential(owner=owner, name=name, kind=kind,
                            project=project or personal_project(owner))
    credential.data = data
    credential.save()
    audit_record(action="credential.create", obj=credential,
                 extra={"kind": kind, "project": credential.project_id})
    return credential


@transaction.atomic
def credential_update(*, credential: Credential, **changes: Any) -> Credential:
    """Change name, kind, data (which replaces the stored secret entirely) and/or project."""
    # The audit trail names the changed fields; the secret data never leaves the model.
    changed = sorted(key for key, value in changes.items()
                     if key == "data" or getattr(credential, key, None) != value)
    from_project = credential.project_id
    for key, value in changes.items():
        setattr(credential, key, value)
    credential.save()
    audit_record(action="credential.update", obj=credential, extra={"fields": changed})
    if from_project != credential.project_id:
        # Moved: shares with the new project itself are pointless.
        credential.shared_with.remove(credential.project_id)
        audit_record(action="credential.move", obj=credential,
                     extra={"from_project": from_project, "to_project": credential.project_id})
    return credential


@transaction.atomic
def credential_share(*, credential: Credential, project: Project, actor: Any = None) -> None:
    """Let `project`'s members use the credential in their nodes (never read or change it)."""
    if project.pk == credential.project_id or credential.shared_with.filter(
            pk=project.pk).exists():
        return
    credential.shared_with.add(project)
    audit_record(action="credential.share", obj=credential, actor=actor,
                 extra={"project": project.pk, "project_name": project.name})


@transaction.atomic
def credential_unshare(*, credential: Credential, project: Project, actor: Any = None) -> None:
    if not credential.shared_with.filter(pk=project.pk).exists():
        return
    credential.shared_with.remove(project)
    audit_record(action="credential.unshare", obj=credential, actor=actor,
                 extra={"project": project.pk, "project_name": project.name})


class CredentialInUse(DomainError):
    """The credential is named by nodes of workflows; it is not deleted."""

    code, status = "credential_in_use", 409

    def __init__(self, workflows: list[dict[str, Any]]):
        super().__init__("credential in use")
        self.workflows = workflows

    @property
    def message(self) -> str:
        names = ", ".join(f"{w['name']!r} (#{w['id']})" for w in self.workflows)
        return (f"the credential is used by {len(self.workflows)} workflow(s): {names}; "
                "change their nodes to another credential first")

    def extra(self) -> dict[str, Any]:
        return {"workflows": self.workflows}


@transaction.atomic
def credential_delete(*, credential: Credential) -> None:
    """Delete a credential no workflow's current definition names (else CredentialInUse)."""
    from .credential_usage import credential_users

    users = credential_users(credential)
    if users:
        raise CredentialInUse(users)
    audit_record(action="credential.delete", obj=credential, extra={"kind": credential.kind})
    credential.delete()
