"""Folders of the workflow list (n8n's folders): per project, nested, a name unique among its
siblings.

    folder = folder_create(project=team, name="Billing", actor=user)
    sub = folder_create(project=team, name="Invoices", parent=folder, actor=user)
    folder_update(folder=sub, parent=None, actor=user)     # moved to the top level
    folder_delete(folder=folder, actor=user)               # FolderNotEmpty while it holds any
    folder_path(sub)                                       # [folder, sub]: the breadcrumb

A folder holding workflows or subfolders is never deleted: the caller moves or deletes them
first (409 `folder_not_empty` names how many). A folder stays in its project; a workflow's
folder is always one of the workflow's project (`check_workflow_folder`), and a workflow moved
to another project leaves its folder (workflows/services.py). Folders are not part of a
workflow's export: an imported workflow lands at the top level of its project.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from accounts.access import project_ids
from accounts.models import ApiToken, Project
from audit.services import audit_record
from wfaib.errors import DomainError

from .models import Folder
from .pins import InvalidField

MAX_NAME_LENGTH = 100
MAX_DEPTH = 20
FORBIDDEN_CHARS = "/\\"


class FolderInvalid(InvalidField):
    """A folder field that cannot be taken; answered like a serializer's 400 (`fields`)."""


class FolderNotEmpty(DomainError):
    """The folder still holds workflows or subfolders; it is not deleted."""

    code, status = "folder_not_empty", 409

    def __init__(self, workflows: int, folders: int):
        super().__init__("folder not empty")
        self.workflows, self.folders = workflows, folders

    @property
    def message(self) -> str:
        return (f"the folder holds {self.workflows} workflow(s) and {self.folders} "
                "subfolder(s); move or delete them first")

    def extra(self) -> dict[str, Any]:
        return {"workflows": self.workflows, "folders": self.folders}


def folders_visible_to(user: Any, action: str = "view", *,
                       token: ApiToken | None = None) -> QuerySet[Folder]:
    """Folders of projects where `user` may do `action` (view; edit and delete to change)."""
    ids = project_ids(user, action, token=token)
    qs = Folder.objects.select_related("project", "parent")
    return qs if ids is None else qs.filter(project_id__in=ids)


def folder_path(folder: Folder | None) -> list[Folder]:
    """The folder's ancestors and itself, top first (the breadcrumb); [] for the top level."""
    path: list[Folder] = []
    seen: set[int] = set()
    while folder is not None and folder.pk not in seen and len(path) <= MAX_DEPTH:
        seen.add(folder.pk)
        path.append(folder)
        folder = folder.parent
    return path[::-1]


def clean_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise FolderInvalid("name", "a folder needs a name")
    name = name.strip()
    if len(name) > MAX_NAME_LENGTH:
        raise FolderInvalid("name", f"at most {MAX_NAME_LENGTH} characters")
    if any(c in name for c in FORBIDDEN_CHARS) or any(ord(c) < 32 for c in name):
        raise FolderInvalid("name", "no slashes or control characters")
    return name


def _check_parent(project: Project, parent: Folder | None, folder: Folder | None) -> None:
    if parent is None:
        return
    if parent.project_id != project.pk:
        raise FolderInvalid("parent", "the parent folder must be in the same project")
    chain = folder_path(parent)
    if folder is not None and folder.pk is not None and any(f.pk == folder.pk for f in chain):
        raise FolderInvalid("parent", "a folder cannot be moved into itself or one of its "
                                      "subfolders")
    if len(chain) >= MAX_DEPTH:
        raise FolderInvalid("parent", f"folders nest at most {MAX_DEPTH} deep")


def _check_name_free(project: Project, parent: Folder | None, name: str,
                     folder: Folder | None) -> None:
    taken = Folder.objects.filter(project=project, parent=parent, name=name)
    if folder is not None and folder.pk is not None:
        taken = taken.exclude(pk=folder.pk)
    if taken.exists():
        where = f"folder {parent.name!r}" if parent else "the project's top level"
        raise FolderInvalid("name", f"{where} already has a folder {name!r}")


def _saved(folder: Folder) -> None:
    try:
        with transaction.atomic():
            folder.save()
    except IntegrityError:  # a sibling of that name was saved meanwhile
        raise FolderInvalid("name", "a folder of this name was just created here") from None


@transaction.atomic
def folder_create(*, project: Project, name: str, parent: Folder | None = None,
                  actor: Any = None) -> Folder:
    name = clean_name(name)
    _check_parent(project, parent, None)
    _check_name_free(project, parent, name, None)
    folder = Folder(project=project, parent=parent, name=name)
    _saved(folder)
    audit_record(action="folder.create", obj=folder, actor=actor,
                 extra={"project": project.pk, "parent": parent.pk if parent else None})
    return folder


@transaction.atomic
def folder_update(*, folder: Folder, actor: Any = None, **changes: Any) -> Folder:
    """Rename (`name`) or move (`parent`, None: the top level) within its project."""
    locked = Folder.objects.select_for_update().get(pk=folder.pk)
    if "project" in changes and changes["project"] is not None \
            and changes["project"].pk != locked.project_id:
        raise FolderInvalid("project", "a folder stays in its project; create one in the "
                                       "other project and move the workflows there")
    name = clean_name(changes["name"]) if "name" in changes else locked.name
    parent = changes["parent"] if "parent" in changes else locked.parent
    _check_parent(locked.project, parent, locked)
    _check_name_free(locked.project, parent, name, locked)
    before = {"name": locked.name, "parent": locked.parent_id}
    locked.name, locked.parent = name, parent
    _saved(locked)
    audit_record(action="folder.update", obj=locked, actor=actor,
                 extra={"before": before, "fields": sorted(changes)})
    folder.name, folder.parent, folder.updated_at = locked.name, locked.parent, locked.updated_at
    return locked


@transaction.atomic
def folder_delete(*, folder: Folder, actor: Any = None) -> None:
    """Delete an empty folder (else FolderNotEmpty, 409)."""
    locked = Folder.objects.select_for_update().get(pk=folder.pk)
    workflows, folders = locked.workflows.count(), locked.children.count()
    if workflows or folders:
        raise FolderNotEmpty(workflows, folders)
    audit_record(action="folder.delete", obj=locked, actor=actor,
                 extra={"project": locked.project_id, "name": locked.name})
    locked.delete()


def check_workflow_folder(folder: Folder | None, project: Project | None) -> None:
    """A workflow's folder must be one of the workflow's project."""
    if folder is not None and project is not None and folder.project_id != project.pk:
        raise FolderInvalid("folder", "the folder must be in the workflow's project")
