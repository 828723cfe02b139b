"""Fixtures for API tests: token-authenticated clients per user, a clean cache (rate limits)."""

import pytest
from rest_framework.test import APIClient

from accounts.tokens import token_create
from tests.factories import UserFactory


@pytest.fixture
def client_for(db):
    def make(user) -> APIClient:
        client = APIClient()
        _, key = token_create(user=user, name="test")
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


@pytest.fixture
def api(user, client_for) -> APIClient:
    return client_for(user)


@pytest.fixture
def other_api(other_user, client_for) -> APIClient:
    return client_for(other_user)


@pytest.fixture
def staff_api(client_for) -> APIClient:
    return client_for(UserFactory(is_staff=True))


@pytest.fixture
def anon() -> APIClient:
    return APIClient()
