"""The one role model: which projects a user may do an action in.

    project_ids(user, "edit")               # a subquery of project ids, or None for "all"
    can(user, "run", project_id)            # one project
    personal_project(user)                  # the user's own project (created when missing)

Actions and the roles that grant them:

    view    read workflows, runs, credentials (never a secret)   viewer, editor, admin
    use     select a credential in a node                        editor, admin
    edit    create and change workflows and credentials          editor, admin
    run     start, cancel and retry runs                         editor, admin
    delete  delete workflows and credentials                     editor, admin
    admin   members, invitations, sharing, project settings      admin

Superusers (the instance's owners) may do everything everywhere; the staff flag only opens the
admin (the builder) and grants no data. An API token may narrow this further: to one project,
and/or to reads only (see `accounts.tokens`).

A project that requires two-factor sign-in (`Project.require_mfa`) grants its roles only to
members who have turned 2FA on (`accounts.mfa.user_has_mfa`): for a member without it, the
project and its workflows, runs and credentials are outside every action until they enrol.
`mfa_blocked_projects(user)` names those projects so the doors can say why (API 403
`mfa_required_by_project`, a header on lists, an admin banner). Superusers keep their
instance-wide access (they own the instance; the rule is a project's, not the instance's).

Every selector (`workflows.selectors`, `runs.selectors`) and through them every door (API base
viewset, admin mixin, dashboard, exports) asks this module, so the rule is written once.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, Model, Q, QuerySet
from django.urls import reverse

from wfaib.errors import DomainError

from .mfa import mfa_devices
from .models import ApiToken, Membership, Project, Role, User

ACTIONS = ("view", "use", "edit", "run", "delete", "admin")

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.VIEWER: frozenset({"view"}),
    Role.EDITOR: frozenset({"view", "use", "edit", "run", "delete"}),
    Role.ADMIN: frozenset(ACTIONS),
}


def roles_allowing(action: str) -> list[str]:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    return [role for role, actions in ROLE_ACTIONS.items() if action in actions]


def token_of(auth: Any) -> ApiToken | None:
    """The ApiToken a request authenticated with (DRF's `request.auth`), if any."""
    return auth if isinstance(auth, ApiToken) else None


def project_ids(user: Any, action: str, *, token: ApiToken | None = None) -> QuerySet | None:
    """The ids of the projects where `user` may do `action`, as a subquery (use it in
    `filter(project_id__in=...)`); None means every project (a superuser, no token limit)."""
    roles = roles_allowing(action)
    if user is None or not user.is_authenticated or not user.is_active:
        return Project.objects.none().values("pk")
    if token is not None and token.read_only and action != "view":
        return Project.objects.none().values("pk")
    if user.is_superuser:
        if token is not None and token.project_id is not None:
            return Project.objects.filter(pk=token.project_id).values("pk")
        return None
    memberships = Membership.objects.filter(user=user, role__in=roles).filter(
        Q(project__require_mfa=False) | Q(Exists(mfa_devices(user))))
    if token is not None and token.project_id is not None:
        memberships = memberships.filter(project_id=token.project_id)
    return memberships.values("project_id")


def can(user: Any, action: str, project_id: int | None, *, token: ApiToken | None = None) -> bool:
    if project_id is None:
        return False
    ids = project_ids(user, action, token=token)
    if ids is None:
        return True
    return Project.objects.filter(pk=project_id, pk__in=ids).exists()


def projects_visible_to(user: Any, action: str = "view", *,
                        token: ApiToken | None = None) -> QuerySet[Project]:
    ids = project_ids(user, action, token=token)
    qs = Project.objects.select_related("personal_owner")
    return qs if ids is None else qs.filter(pk__in=ids)


def mfa_blocked_projects(user: Any, *, token: ApiToken | None = None) -> QuerySet[Project]:
    """The projects `user` is a member of (within the token's limit) whose data they cannot
    reach because the project requires 2FA and they have not turned it on."""
    if user is None or not user.is_authenticated or not user.is_active or user.is_superuser:
        return Project.objects.none()
    qs = Project.objects.filter(require_mfa=True, memberships__user=user).exclude(
        Exists(mfa_devices(user)))
    if token is not None and token.project_id is not None:
        qs = qs.filter(pk=token.project_id)
    return qs.order_by("name", "pk")


def mfa_blocking_project(user: Any, model: type[Model], pk: Any, *,
                         project_lookup: str = "project",
                         token: ApiToken | None = None) -> Project | None:
    """The project of object `pk` (reached from `model` by `project_lookup`: "project",
    "workflow__project", "pk") when it is one of `user`'s that requires 2FA they have not
    turned on: the reason the object is hidden from them. None otherwise (also for a pk
    that is not one of the model's)."""
    blocked = mfa_blocked_projects(user, token=token)
    if not blocked.exists():
        return None
    try:
        ids = list(model._default_manager.filter(
            pk=pk, **{f"{project_lookup}__in": blocked.values("pk")})
            .values_list(project_lookup, flat=True)[:1])
    except (ValueError, TypeError, ValidationError):  # not a valid id of this model
        return None
    return blocked.filter(pk__in=ids).first() if ids else None


class MfaRequiredByProject(DomainError):
    """An object of a project that requires 2FA, asked for by a member who has not enrolled."""

    code, status = "mfa_required_by_project", 403

    def __init__(self, project: Project):
        self.project = project
        super().__init__(
            f"project {project.name!r} requires two-factor sign-in: turn it on for your "
            f"account (in the admin at {reverse('admin_two_factor')}, or with POST "
            f"{reverse('auth-mfa-totp')} then {reverse('auth-mfa-totp-confirm')}) to see "
            "its workflows, runs and credentials")

    def extra(self) -> dict[str, Any]:
        return {"project": {"id": self.project.pk, "name": self.project.name},
                "enrol_url": reverse("admin_two_factor")}


def role_of(user: Any, project: Project) -> str | None:
    """The user's role in `project` (None: not a member)."""
    return (Membership.objects.filter(project=project, user=user)
            .values_list("role", flat=True).first())


def personal_project(user: User) -> Project:
    return Project.objects.create_personal(user)


def default_project(user: User, *, token: ApiToken | None = None) -> Project:
    """Where something new goes when no project is named: the token's project, else the
    user's personal project."""
    if token is not None and token.project_id is not None:
        return token.project
    return personal_project(user)
