"""Writes to projects: create, update, delete; members and their roles; invitations by email.

Every change is audited (`audit_record`, in the same transaction). A change the rules refuse
raises `ProjectRuleError` with a machine code and an HTTP status, and changes nothing:

    last_admin          removing or demoting a project's last admin             409
    already_member      adding or inviting someone who is already a member      409
    personal_project    members, invitations or deletion of a personal project  400
    project_not_empty   deleting a project that still holds workflows           409
    invitation_expired / invitation_used / invitation_revoked                   410
    invitation_email_mismatch  accepting someone else's invitation              403
    no_such_user        adding a member by an email nobody signed up with        400
    mfa_not_enrolled    turning `require_mfa` on without 2FA on one's own account  400

Who may call these (a project admin) is checked by the doors through `accounts.access`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from decimal import Decimal
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.services import audit_record
from wfaib.conf import wfaib_settings
from wfaib.errors import DomainError

from .mfa import user_has_mfa
from .models import Invitation, Membership, Project, Role, User


class ProjectRuleError(DomainError):
    """A project rule refused the change (last admin, already a member, ...)."""

    def __init__(self, code: str, message: str, status: int = 400, *, field: str | None = None):
        super().__init__(message)
        self.code, self.status, self.field = code, status, field

    def extra(self) -> dict[str, Any]:
        return {"fields": {self.field: [self.message]}} if self.field else {}


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _not_personal(project: Project, what: str) -> None:
    if project.is_personal:
        raise ProjectRuleError("personal_project",
                               f"a personal project cannot {what}; create a team project")


# -- projects --------------------------------------------------------------------------------

def require_mfa_check(*, actor: Any, turning_on: bool) -> None:
    """Whoever turns `require_mfa` on must have 2FA on themselves, or they would lock
    themselves out of the project (ProjectRuleError `mfa_not_enrolled` naming the field).
    No actor (a management command, a data migration) is not checked."""
    if turning_on and actor is not None and not user_has_mfa(actor):
        raise ProjectRuleError(
            "mfa_not_enrolled", "require_mfa: turn two-factor sign-in on for your own account "
            "first (admin: Two-factor sign-in; API: POST /api/auth/mfa/totp), or you would "
            "lose access to this project yourself", field="require_mfa")


@transaction.atomic
def project_create(*, name: str, creator: User, require_mfa: bool = False,
                   **budgets: Any) -> Project:
    """A team project; its creator is its first admin. `budgets`: monthly_token_budget,
    monthly_cost_budget."""
    require_mfa_check(actor=creator, turning_on=require_mfa)
    project = Project.objects.create(name=name, require_mfa=require_mfa, **budgets)
    Membership.objects.create(project=project, user=creator, role=Role.ADMIN)
    audit_record(action="project.create", obj=project, actor=creator,
                 extra={"name": name, "require_mfa": require_mfa})
    return project


def _plain(value: Any) -> Any:
    """A value as the audit trail's JSON stores it (a Decimal budget as its text)."""
    return str(value) if isinstance(value, Decimal) else value


@transaction.atomic
def project_update(*, project: Project, actor: Any = None, **changes: Any) -> Project:
    """Change `name`, `require_mfa` (turning it on needs 2FA on the actor's account) and/or
    the monthly budgets `monthly_token_budget` and `monthly_cost_budget` (the audit event
    `project.update` records each changed field's old and new value)."""
    before = {k: getattr(project, k) for k in changes}
    require_mfa_check(actor=actor, turning_on=bool(changes.get("require_mfa"))
                      and not project.require_mfa)
    for key, value in changes.items():
        setattr(project, key, value)
    project.save()
    diff = {k: {"old": _plain(before[k]), "new": _plain(v)} for k, v in changes.items()
            if before[k] != v}
    if diff:
        audit_record(action="project.update", obj=project, actor=actor, extra={"changes": diff})
    return project


@transaction.atomic
def project_delete(*, project: Project, actor: Any = None) -> None:
    _not_personal(project, "be deleted")
    if project.workflows.exists() or project.credentials.exists():
        raise ProjectRuleError("project_not_empty", "the project still holds workflows or "
                               "credentials; move or delete them first", 409)
    audit_record(action="project.delete", obj=project, actor=actor)
    project.delete()


# -- members ---------------------------------------------------------------------------------

def _locked_membership(project: Project, user_id: int) -> Membership:
    return Membership.objects.select_for_update().select_related("user").get(
        project=project, user_id=user_id)


def _ensure_another_admin(project: Project, membership: Membership, doing: str) -> None:
    # Lock the project's admin rows so two concurrent demotions cannot both pass.
    admins = list(Membership.objects.select_for_update().filter(project=project,
                                                               role=Role.ADMIN))
    if membership.role == Role.ADMIN and len(admins) <= 1:
        raise ProjectRuleError("last_admin", f"cannot {doing} the project's last admin; make "
                               "someone else admin first", 409)


@transaction.atomic
def membership_add(*, project: Project, email: str, role: str, actor: Any = None) -> Membership:
    """Add an existing user (by email) to a team project."""
    _not_personal(project, "have other members")
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise ProjectRuleError("no_such_user", f"no user with the email {email}; invite them "
                               "instead (POST .../invitations)")
    if Membership.objects.filter(project=project, user=user).exists():
        raise ProjectRuleError("already_member", f"{user.email} is already a member", 409)
    membership = Membership.objects.create(project=project, user=user, role=role)
    audit_record(action="project.member_add", obj=project, actor=actor,
                 extra={"user": user.pk, "email": user.email, "role": role})
    return membership


@transaction.atomic
def membership_change_role(*, project: Project, user_id: int, role: str,
                           actor: Any = None) -> Membership:
    membership = _locked_membership(project, user_id)
    if membership.role == role:
        return membership
    if role != Role.ADMIN:
        _ensure_another_admin(project, membership, "demote")
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(action="project.member_role", obj=project, actor=actor,
                 extra={"user": user_id, "email": membership.user.email, "old": old,
                        "new": role})
    return membership


@transaction.atomic
def membership_remove(*, project: Project, user_id: int, actor: Any = None) -> None:
    membership = _locked_membership(project, user_id)
    _ensure_another_admin(project, membership, "remove")
    if project.personal_owner_id == user_id:
        raise ProjectRuleError("personal_project", "the owner of a personal project cannot "
                               "leave it")
    membership.delete()
    audit_record(action="project.member_remove", obj=project, actor=actor,
                 extra={"user": user_id, "email": membership.user.email,
                        "role": membership.role})


# -- invitations -----------------------------------------------------------------------------

def invitation_lifetime() -> dt.timedelta:
    return dt.timedelta(hours=wfaib_settings.INVITATION_HOURS)


def invitation_url(key: str) -> str:
    return f"{wfaib_settings.BASE_URL.rstrip('/')}{reverse('invitation', args=[key])}"


@transaction.atomic
def invitation_create(*, project: Project, email: str, role: str,
                      invited_by: User) -> tuple[Invitation, str]:
    """Invite `email` into `project` with `role`: stores a digest of a random key and mails the
    single-use link (after commit). An earlier pending invitation for the same address is
    revoked. Returns the invitation and the key (shown to no one else)."""
    _not_personal(project, "invite members")
    email = email.strip().lower()
    if Membership.objects.filter(project=project, user__email__iexact=email).exists():
        raise ProjectRuleError("already_member", f"{email} is already a member", 409)
    now = timezone.now()
    Invitation.objects.filter(project=project, email=email, accepted_at__isnull=True,
                              revoked_at__isnull=True).update(revoked_at=now)
    key = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        project=project, email=email, role=role, key_digest=_digest(key),
        invited_by=invited_by, expires_at=now + invitation_lifetime())
    audit_record(action="project.invite", obj=project, actor=invited_by,
                 extra={"email": email, "role": role, "invitation": invitation.pk})
    link = invitation_url(key)
    hours = wfaib_settings.INVITATION_HOURS
    transaction.on_commit(lambda: send_mail(
        subject=f"You are invited to {project.name} on WFAIB",
        message=(f"{invited_by.email} invites you to the project “{project.name}” as "
                 f"{role}.\n\nAccept (within {hours} hours, once): {link}\n"),
        from_email=None, recipient_list=[email]))
    return invitation, key


def invitation_by_key(key: str) -> Invitation | None:
    return (Invitation.objects.select_related("project", "invited_by")
            .filter(key_digest=_digest(key)).first())


def invitation_check(invitation: Invitation) -> None:
    """Raise ProjectRuleError when the invitation can no longer be accepted."""
    if invitation.accepted_at is not None:
        raise ProjectRuleError("invitation_used", "this invitation was already accepted", 410)
    if invitation.revoked_at is not None:
        raise ProjectRuleError("invitation_revoked", "this invitation was withdrawn", 410)
    if invitation.expires_at <= timezone.now():
        raise ProjectRuleError("invitation_expired", "this invitation has expired; ask for a "
                               "new one", 410)


@transaction.atomic
def invitation_accept(*, key: str, user: User | None = None,
                      password: str | None = None) -> Membership:
    """Accept an invitation: as the signed-in `user` (whose email must be the invited one), or,
    for someone without an account, by choosing a `password` (the account is created with the
    invited email and its personal project)."""
    found = invitation_by_key(key)
    if found is None:
        raise ProjectRuleError("not_found", "no such invitation", 404)
    invitation = Invitation.objects.select_for_update().get(pk=found.pk)
    invitation_check(invitation)
    if user is None:
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise ProjectRuleError("sign_in_first", f"an account for {invitation.email} "
                                   "exists; sign in and accept again", 409)
        if not password:
            raise ProjectRuleError("invalid", "password: choose a password for your account")
        try:
            validate_password(password, User(email=invitation.email))
        except ValidationError as exc:
            raise ProjectRuleError("invalid", "password: " + " ".join(exc.messages)) from None
        # An invited account may open the builder (the staff flag grants no data by itself).
        user = User.objects.create_user(email=invitation.email, password=password,
                                        is_staff=True)
        audit_record(action="user.create", obj=user, actor=user,
                     extra={"via_invitation": invitation.pk})
    elif user.email.lower() != invitation.email:
        raise ProjectRuleError("invitation_email_mismatch", "this invitation is for another "
                               "email address", 403)
    if Membership.objects.filter(project=invitation.project, user=user).exists():
        raise ProjectRuleError("already_member", "you are already a member", 409)
    membership = Membership.objects.create(project=invitation.project, user=user,
                                           role=invitation.role)
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(action="project.invitation_accept", obj=invitation.project, actor=user,
                 extra={"email": user.email, "role": invitation.role,
                        "invitation": invitation.pk})
    return membership


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: Any = None) -> None:
    invitation_check(invitation)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(action="project.invitation_revoke", obj=invitation.project, actor=actor,
                 extra={"email": invitation.email, "invitation": invitation.pk})
