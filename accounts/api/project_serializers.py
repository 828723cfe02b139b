"""Request and response shapes of /api/projects (members, invitations) and invitation accept."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from ..models import Invitation, Membership, Project, Role


class ProjectSerializer(serializers.ModelSerializer):
    is_personal = serializers.BooleanField(read_only=True)
    role = serializers.SerializerMethodField(help_text="Your role in the project (null for a "
                                                       "superuser who is not a member).")
    require_mfa = serializers.BooleanField(
        required=False, help_text="Members must sign in with a second factor (project admins "
                                  "set it).")

    monthly_token_budget = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=10**15,
        help_text="Most model tokens the project's workflows may use a month (null: no limit).")
    monthly_cost_budget = serializers.DecimalField(
        required=False, allow_null=True, max_digits=12, decimal_places=4, min_value=0,
        coerce_to_string=False,
        help_text="Most estimated USD of model calls a month (null: no limit).")

    class Meta:
        model = Project
        fields = ["id", "name", "is_personal", "role", "require_mfa", "monthly_token_budget",
                  "monthly_cost_budget", "created_at"]
        read_only_fields = ["id", "is_personal", "role", "created_at"]

    def get_role(self, project: Project) -> str | None:
        request = self.context.get("request")
        if request is None:
            return None
        roles = self.context.setdefault("_roles", dict(
            Membership.objects.filter(user=request.user).values_list("project_id", "role")))
        return roles.get(project.pk)


class MembershipSerializer(serializers.ModelSerializer):
    user = serializers.IntegerField(source="user.id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = Membership
        fields = ["user", "email", "role", "created_at"]
        read_only_fields = ["user", "email", "created_at"]


class MemberAddSerializer(serializers.Serializer):
    email = serializers.EmailField(help_text="An existing user's email (others: invite them).")
    role = serializers.ChoiceField(choices=Role.choices, default=Role.VIEWER)


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationSerializer(serializers.ModelSerializer):
    invited_by = serializers.EmailField(source="invited_by.email", read_only=True,
                                        allow_null=True, default=None)
    status = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "invited_by", "created_at", "expires_at", "status"]
        read_only_fields = fields

    def get_status(self, invitation: Invitation) -> str:
        if invitation.accepted_at:
            return "accepted"
        if invitation.revoked_at:
            return "revoked"
        return "expired" if invitation.expires_at <= timezone.now() else "pending"


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices, default=Role.VIEWER)


class InvitationAcceptSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=100, help_text="The key from the invitation link.")
    password = serializers.CharField(
        required=False, trim_whitespace=False, style={"input_type": "password"},
        help_text="Without signing in: the password of the account created for the invited "
                  "email.")
