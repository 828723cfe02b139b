"""/api/projects: projects, their members (add, change role, remove) and invitations; and
`POST /api/invitations/accept`. Thin: the rules live in `accounts.services`, visibility in
`accounts.access` (applied by ScopedViewSetMixin: outsiders 404, non-admins 403 on changes)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wfaib.exceptions import ErrorSerializer

from .. import services
from ..access import projects_visible_to, token_of
from ..models import Project
from .base import ScopedViewSetMixin
from .project_serializers import (
    InvitationAcceptSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    MemberAddSerializer,
    MemberRoleSerializer,
    MembershipSerializer,
    ProjectSerializer,
)

RULE = OpenApiResponse(ErrorSerializer, description="refused by a project rule: last_admin, "
                       "already_member, project_not_empty (409); personal_project (400)")
GONE = OpenApiResponse(ErrorSerializer, description="invitation_expired, invitation_used, "
                       "invitation_revoked")
USER_ID = OpenApiParameter("user_id", int, OpenApiParameter.PATH)
INVITATION_ID = OpenApiParameter("invitation_id", int, OpenApiParameter.PATH)


@extend_schema(tags=["projects"])
class ProjectViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """Your projects (your personal one and the teams you belong to); create a team project
    (you become its admin). Admins rename it, set `require_mfa`, manage members and invite."""

    serializer_class = ProjectSerializer
    visible_to = staticmethod(projects_visible_to)
    project_lookup = "pk"
    action_access = {"create": "view", "update": "admin", "partial_update": "admin",
                     "destroy": "admin", "members": "view", "add_member": "admin",
                     "change_member": "admin", "remove_member": "admin",
                     "invitations": "admin", "invite": "admin", "revoke_invitation": "admin"}
    lookup_value_regex = r"\d+"

    def _model(self):
        return Project

    def perform_create(self, serializer: ProjectSerializer) -> None:
        token = token_of(self.request.auth)
        if token is not None and token.project_id is not None:
            raise PermissionDenied("a token limited to one project cannot create projects",
                                   code="forbidden")
        serializer.instance = services.project_create(creator=self.request.user,
                                                      **serializer.validated_data)

    def perform_update(self, serializer: ProjectSerializer) -> None:
        serializer.instance = services.project_update(project=serializer.instance,
                                                      actor=self.request.user,
                                                      **serializer.validated_data)

    @extend_schema(responses={204: None, 400: RULE, 409: RULE})
    def destroy(self, request, *args, **kwargs):
        """Delete an empty team project (a personal project stays)."""
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance: Project) -> None:
        services.project_delete(project=instance, actor=self.request.user)

    # -- members -----------------------------------------------------------------------------
    @extend_schema(responses=MembershipSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def members(self, request: Request, pk: str | None = None) -> Response:
        """The project's members and their roles."""
        project = self.get_object()
        return Response(MembershipSerializer(
            project.memberships.select_related("user"), many=True).data)

    @extend_schema(request=MemberAddSerializer,
                   responses={201: MembershipSerializer, 400: RULE, 409: RULE})
    @members.mapping.post
    def add_member(self, request: Request, pk: str | None = None) -> Response:
        """Add an existing user by email with a role (409 already_member)."""
        project = self.get_object()
        body = MemberAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        membership = services.membership_add(project=project, actor=request.user,
                                             **body.validated_data)
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MemberRoleSerializer, responses={200: MembershipSerializer, 409: RULE},
                   parameters=[USER_ID])
    @action(detail=True, methods=["patch"], url_path=r"members/(?P<user_id>\d+)",
            url_name="member")
    def change_member(self, request: Request, pk: str | None = None,
                      user_id: str = "") -> Response:
        """Change a member's role (409 last_admin when it would leave no admin)."""
        project = self.get_object()
        get_object_or_404(project.memberships, user_id=int(user_id))
        body = MemberRoleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        membership = services.membership_change_role(
            project=project, user_id=int(user_id), role=body.validated_data["role"],
            actor=request.user)
        return Response(MembershipSerializer(membership).data)

    @extend_schema(request=None, responses={204: None, 400: RULE, 409: RULE},
                   parameters=[USER_ID])
    @change_member.mapping.delete
    def remove_member(self, request: Request, pk: str | None = None,
                      user_id: str = "") -> Response:
        """Remove a member (409 last_admin for the last admin)."""
        project = self.get_object()
        get_object_or_404(project.memberships, user_id=int(user_id))
        services.membership_remove(project=project, user_id=int(user_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # -- invitations -------------------------------------------------------------------------
    @extend_schema(responses=InvitationSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def invitations(self, request: Request, pk: str | None = None) -> Response:
        """Invitations sent for this project, newest first, with their status."""
        project = self.get_object()
        return Response(InvitationSerializer(
            project.invitations.select_related("invited_by"), many=True).data)

    @extend_schema(request=InvitationCreateSerializer,
                   responses={201: InvitationSerializer, 400: RULE, 409: RULE})
    @invitations.mapping.post
    def invite(self, request: Request, pk: str | None = None) -> Response:
        """Email a single-use link that expires (WFAIB_INVITATION_HOURS) to join with a role."""
        project = self.get_object()
        body = InvitationCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        invitation, _ = services.invitation_create(project=project, invited_by=request.user,
                                                   **body.validated_data)
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None, 410: GONE}, parameters=[INVITATION_ID])
    @action(detail=True, methods=["delete"], url_path=r"invitations/(?P<invitation_id>\d+)",
            url_name="invitation")
    def revoke_invitation(self, request: Request, pk: str | None = None,
                          invitation_id: str = "") -> Response:
        """Withdraw a pending invitation (its link stops working)."""
        project = self.get_object()
        invitation = get_object_or_404(project.invitations, pk=int(invitation_id))
        services.invitation_revoke(invitation=invitation, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationAcceptView(APIView):
    """Accept an invitation: signed in (token or session) as the invited email, or without an
    account by choosing a password (the account is created)."""

    permission_classes = (permissions.AllowAny,)

    @extend_schema(request=InvitationAcceptSerializer,
                   responses={201: MembershipSerializer,
                              403: OpenApiResponse(ErrorSerializer,
                                                   description="invitation_email_mismatch"),
                              404: OpenApiResponse(ErrorSerializer, description="not_found"),
                              409: OpenApiResponse(ErrorSerializer,
                                                   description="already_member, sign_in_first"),
                              410: GONE},
                   operation_id="invitations_accept", tags=["projects"])
    def post(self, request: Request) -> Response:
        body = InvitationAcceptSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = request.user if request.user.is_authenticated else None
        membership = services.invitation_accept(key=body.validated_data["key"], user=user,
                                                password=body.validated_data.get("password"))
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)
