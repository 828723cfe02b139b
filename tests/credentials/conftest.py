"""Fixtures for credential tests: token-authenticated API clients."""

import pytest
from rest_framework.test import APIClient

from accounts.tokens import token_create


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
