"""EMAIL_URL becomes Django's MAILERS["default"]: the console backend when unset, SMTP with its
host, port, credentials and TLS when given. Checked in a fresh interpreter with the real
settings module."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = ("import django, json; django.setup(); from django.conf import settings; "
         "print(json.dumps(settings.MAILERS))")


def mailers(**env):
    environ = {k: v for k, v in os.environ.items() if k != "EMAIL_URL"}
    environ.update(DJANGO_SETTINGS_MODULE="wfaib.settings", DEBUG="1", **env)
    out = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", PROBE],
                         cwd=ROOT, env=environ, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["default"]


def test_console_by_default():
    assert mailers() == {"BACKEND": "django.core.mail.backends.console.EmailBackend",
                         "OPTIONS": {}}


def test_smtp_from_the_url():
    assert mailers(EMAIL_URL="smtp+tls://bot:s3cret@mail.example.com:587") == {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "mail.example.com", "port": 587, "username": "bot",
                    "password": "s3cret", "use_tls": True}}
