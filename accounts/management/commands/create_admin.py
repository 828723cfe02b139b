"""`manage.py create_admin`: the first account without a terminal (scripts, containers, CI).

    WFAIB_ADMIN_EMAIL=ada@example.com WFAIB_ADMIN_PASSWORD='a long passphrase' \\
        .venv/bin/python manage.py create_admin

Creates a superuser with that email and password (checked by the password validators). An
account with that email that already exists is left as it is (exit 0, said so). Missing
variables or a refused password: a message and exit code 1, never a silent skip. The
password is read from the environment only, so it never shows in a process list.
"""

from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

EMAIL_VAR, PASSWORD_VAR = "WFAIB_ADMIN_EMAIL", "WFAIB_ADMIN_PASSWORD"


class Command(BaseCommand):
    help = (f"Create a superuser from {EMAIL_VAR} and {PASSWORD_VAR} (no terminal needed); "
            "an existing account is left unchanged.")

    def add_arguments(self, parser):
        parser.add_argument("--email", help=f"the login email (default: ${EMAIL_VAR})")

    def handle(self, *args, **options):
        email = (options.get("email") or os.environ.get(EMAIL_VAR, "")).strip().lower()
        password = os.environ.get(PASSWORD_VAR, "")
        if not email or not password:
            raise CommandError(f"set {EMAIL_VAR} and {PASSWORD_VAR} (or pass --email and set "
                               f"{PASSWORD_VAR}); for an interactive prompt use "
                               "`manage.py createsuperuser`")
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{EMAIL_VAR}: {email!r} is not an email address") from None
        users = get_user_model()
        if users.objects.filter(email__iexact=email).exists():
            self.stdout.write(f"An account for {email} already exists; left unchanged.")
            return
        candidate = users(email=email)
        try:
            validate_password(password, user=candidate)
        except ValidationError as exc:
            raise CommandError(f"{PASSWORD_VAR} refused: " + " ".join(exc.messages)) from None
        users.objects.create_superuser(email=email, password=password)
        self.stdout.write(f"Created the superuser {email}; sign in at /admin/.")
