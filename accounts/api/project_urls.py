"""/api/projects..., /api/invitations/accept."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .projects import InvitationAcceptView, ProjectViewSet

router = SimpleRouter(trailing_slash=False)
router.register("projects", ProjectViewSet, basename="project")

urlpatterns = [
    path("invitations/accept", InvitationAcceptView.as_view(), name="invitation-accept"),
    *router.urls,
]
