import pytest
from django.contrib.auth.models import Permission

from tests.factories import UserFactory


@pytest.fixture
def staff(db):
    """A staff user (not superuser) allowed to use workflows and runs in the admin."""
    user = UserFactory(is_staff=True)
    perms = Permission.objects.filter(content_type__app_label__in=["workflows", "runs"])
    user.user_permissions.set(perms)
    return user


@pytest.fixture
def other_staff(db):
    user = UserFactory(is_staff=True)
    perms = Permission.objects.filter(content_type__app_label__in=["workflows", "runs"])
    user.user_permissions.set(perms)
    return user


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client
