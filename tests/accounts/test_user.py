import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def test_email_is_the_login_and_unique():
    User = get_user_model()
    assert User.USERNAME_FIELD == "email"
    user = User.objects.create_user(email="Ada@Example.com", password="pw-long-enough-1")
    assert user.email == "ada@example.com"
    assert user.check_password("pw-long-enough-1")
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(email="ada@example.com", password="x")


def test_createsuperuser_asks_for_email():
    from django.core.management import call_command

    call_command("createsuperuser", "--noinput", "--email", "root@example.com", verbosity=0)
    admin = get_user_model().objects.get(email="root@example.com")
    assert admin.is_superuser
    assert admin.is_staff


def test_user_model_is_in_first_migration():
    import importlib

    from accounts.migrations import __path__ as mig_path  # noqa: F401

    first = importlib.import_module("accounts.migrations.0001_initial")
    assert any(getattr(op, "name", "") == "User" for op in first.Migration.operations)


def test_app_refuses_to_start_without_secret_key_unless_debug(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "wfaib.settings", "DEBUG": "0",
           "SECRET_KEY": ""}
    code = "import django; django.setup()"
    refused = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, cwd=str(tmp_path.parent if False else "."))
    assert refused.returncode != 0
    assert "SECRET_KEY is not set" in refused.stderr
    env["DEBUG"] = "1"
    allowed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert allowed.returncode == 0, allowed.stderr
