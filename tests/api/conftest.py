"""Fixtures for API tests: a staff user's client and an anonymous one (`client_for`, `api` and
`other_api` are in tests/conftest.py)."""

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory


@pytest.fixture
def staff_api(client_for) -> APIClient:
    return client_for(UserFactory(is_staff=True))


@pytest.fixture
def anon() -> APIClient:
    return APIClient()
