"""The WFAIB user (the login is the email address), API tokens, and projects: where workflows
and credentials live, with members in roles (admin, editor, viewer) and invitations."""

from __future__ import annotations

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        # Every user has a personal project from the start (accounts.access imports models, so
        # the project is created here directly rather than through a service).
        Project.objects.create_personal(user)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        if not extra["is_staff"] or not extra["is_superuser"]:
            raise ValueError("A superuser must have is_staff and is_superuser set.")
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A user who signs in with an email address (unique, case-insensitive on input)."""

    username = None
    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.email


class ApiToken(models.Model):
    """A named API token. Only a SHA-256 digest of the key is stored: the key itself is shown
    once, when the token is created (login or `POST /api/auth/tokens`)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, default="login")
    key_digest = models.CharField(max_length=64, unique=True)
    # The key's first characters, so a user can tell tokens apart in a list.
    prefix = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Limits: only this project's objects (null: all the user's projects), only reads, and an
    # expiry (null: never).
    project = models.ForeignKey("Project", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+")
    read_only = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class ProjectManager(models.Manager):
    def create_personal(self, user: User) -> Project:
        """The user's personal project (they are its admin); created once."""
        project, created = self.get_or_create(
            personal_owner=user, defaults={"name": f"{user.email} (personal)"})
        if created:
            Membership.objects.create(project=project, user=user, role=Role.ADMIN)
        return project


class Project(models.Model):
    """Where workflows and credentials live. Every user has a personal project
    (`personal_owner` set); team projects have several members, each with a role."""

    name = models.CharField(max_length=200)
    personal_owner = models.OneToOneField(User, null=True, blank=True, on_delete=models.CASCADE,
                                          related_name="personal_project")
    # Members must use two-factor sign-in (enforced at sign-in; stored and set here).
    require_mfa = models.BooleanField(default=False)
    # Monthly budgets of model calls (null: none); a call that would pass one is refused
    # before it is made, and an audit event warns at 80 % (runs/engine/budgets.py).
    monthly_token_budget = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Most model tokens (prompt + completion) a month.")
    monthly_cost_budget = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True,
        help_text="Most estimated USD of model calls a month.")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProjectManager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_personal(self) -> bool:
        return self.personal_owner_id is not None


class Role(models.TextChoices):
    ADMIN = "admin", "admin (members, settings, everything)"
    EDITOR = "editor", "editor (create, edit, run, delete workflows and credentials)"
    VIEWER = "viewer", "viewer (read workflows and runs)"


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "user__email"]
        constraints = [models.UniqueConstraint(fields=["project", "user"],
                                               name="membership_unique_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} ({self.role})"


class Invitation(models.Model):
    """An invitation to join a project by email: a single-use link that expires. Only a
    SHA-256 digest of the link's key is stored."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    key_digest = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.email} to {self.project}"
