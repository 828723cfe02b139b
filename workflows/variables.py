"""Project variables: key/values that every workflow of the project reads as `vars.<key>`.

    variable_create(project=team, key="api_base", value="https://api.example.com", actor=user)
    variables_of(team.pk)            # {"api_base": "https://api.example.com"}
    {{ vars.api_base }}/orders       # in any config field

Values are plain text and NOT secret: they are returned by the API, shown in the admin, and
end up in run logs wherever a node's output holds them. Keep secrets in credentials: a key
that names a secret (`api_key`, `password`, `*_token`: the masking rule's names) is refused.
A value is data, never an expression: `{{ }}` inside a value is not evaluated.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from accounts.access import project_ids
from accounts.models import ApiToken, Project
from audit.services import audit_record
from wfaib.errors import DomainError
from wfaib.masking import is_secret_key

from .models import Variable

KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
MAX_VALUE_LENGTH = 10_000
MAX_PER_PROJECT = 500


class InvalidVariable(DomainError):
    code, status = "invalid_variable", 400

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message

    def extra(self) -> dict[str, Any]:
        return {"field": self.field}


def key_problem(key: Any) -> str | None:
    if not isinstance(key, str) or not KEY_RE.match(key):
        return "1-64 letters, digits or _, starting with a letter (it is read as vars.<key>)"
    if is_secret_key(key):
        return ("names a secret: variables are not secret (every member and every run log "
                "can read them); keep it in a credential")
    return None


def _check(project: Project, key: str, value: str, instance: Variable | None = None) -> None:
    problem = key_problem(key)
    if problem:
        raise InvalidVariable("key", problem)
    if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH:
        raise InvalidVariable("value", f"text of at most {MAX_VALUE_LENGTH:,} characters")
    taken = Variable.objects.filter(project=project, key=key)
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
    if taken.exists():
        raise InvalidVariable("key", f"the project already has a variable {key!r}")
    if instance is None and Variable.objects.filter(project=project).count() >= MAX_PER_PROJECT:
        raise InvalidVariable("key", f"a project holds at most {MAX_PER_PROJECT} variables")


@transaction.atomic
def variable_create(*, project: Project, key: str, value: str = "", actor: Any = None
                    ) -> Variable:
    _check(project, key, value)
    variable = Variable.objects.create(project=project, key=key, value=value)
    audit_record(action="variable.create", obj=variable, actor=actor,
                 extra={"project": project.pk, "key": key})
    return variable


@transaction.atomic
def variable_update(*, variable: Variable, actor: Any = None, **changes: Any) -> Variable:
    """Change `key`, `value` or `project` (moving it: the caller checks the target)."""
    project = changes.get("project") or variable.project
    key = changes.get("key", variable.key)
    value = changes.get("value", variable.value)
    _check(project, key, value, instance=variable)
    before = {"key": variable.key, "project": variable.project_id}
    variable.project, variable.key, variable.value = project, key, value
    variable.save()
    audit_record(action="variable.update", obj=variable, actor=actor,
                 extra={"before": before, "fields": sorted(changes)})
    return variable


@transaction.atomic
def variable_delete(*, variable: Variable, actor: Any = None) -> None:
    audit_record(action="variable.delete", obj=variable, actor=actor,
                 extra={"project": variable.project_id, "key": variable.key})
    variable.delete()


def variables_visible_to(user: Any, action: str = "view", *,
                         token: ApiToken | None = None) -> QuerySet[Variable]:
    """Variables of projects where `user` may do `action` (view; edit and delete to change)."""
    ids = project_ids(user, action, token=token)
    qs = Variable.objects.select_related("project")
    return qs if ids is None else qs.filter(project_id__in=ids)


def variables_of(project_id: int | None) -> dict[str, str]:
    """The project's variables as `vars` reads them."""
    if project_id is None:
        return {}
    return dict(Variable.objects.filter(project_id=project_id).values_list("key", "value"))
