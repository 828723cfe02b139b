import pyotp
import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import Membership, Role
from accounts.services import project_create
from accounts.tokens import token_create
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def api_for(user, **limits) -> APIClient:
    client = APIClient()
    _, key = token_create(user=user, name="test", **limits)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def team(db):
    """A team project with an admin, an editor and a viewer (all staff, none superuser)."""
    admin, editor, viewer = (UserFactory(is_staff=True) for _ in range(3))
    project = project_create(name="team", creator=admin)
    Membership.objects.create(project=project, user=editor, role=Role.EDITOR)
    Membership.objects.create(project=project, user=viewer, role=Role.VIEWER)
    return {"project": project, "admin": admin, "editor": editor, "viewer": viewer}


def totp_now(secret: str) -> str:
    return pyotp.TOTP(secret).now()


def enrol_mfa(user) -> str:
    """Turn two-factor sign-in on for `user` through the API (codes computed with pyotp, not
    with the code under test); returns the TOTP secret."""
    client = api_for(user)
    started = client.post("/api/auth/mfa/totp")
    assert started.status_code == 201, started.content
    secret = started.json()["secret"]
    confirmed = client.post("/api/auth/mfa/totp/confirm", {"code": totp_now(secret)},
                            format="json")
    assert confirmed.status_code == 200, confirmed.content
    return secret
