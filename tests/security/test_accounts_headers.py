"""Security headers: CSP on the admin and the editor page, HSTS and secure cookies under
WFAIB_HTTPS=1, and OAuth (django-allauth) installed only when configured. Settings read at
start-up are checked in a fresh interpreter with the environment in question."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import UserFactory, make_workflow

ROOT = Path(__file__).resolve().parents[2]


def csp_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_admin_pages_carry_the_content_security_policy(admin_client):
    for url in ["/admin/login/", "/admin/", "/admin/workflows/workflow/"]:
        response = admin_client.get(url, follow=url == "/admin/login/")
        assert response.status_code == 200, url
        policy = csp_of(response)
        assert policy["default-src"] == ["'self'"]
        assert policy["script-src"][0] == "'self'"
        assert "'unsafe-inline'" not in policy["script-src"]
        assert "'unsafe-eval'" not in policy["script-src"]
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]


def test_the_editor_page_carries_the_policy_and_loads_its_script_from_self(admin_client):
    workflow = make_workflow(owner=UserFactory(), name="edited")
    response = admin_client.get(f"/admin/workflows/workflow/{workflow.pk}/editor/")
    assert response.status_code == 200
    policy = csp_of(response)
    assert policy["script-src"][0] == "'self'"
    assert policy["connect-src"] == ["'self'"]
    html = response.content.decode()
    # the bundle is a same-origin script, allowed by script-src 'self'; no inline handlers
    assert 'src="/static/editor/editor.js"' in html
    assert " onclick=" not in html
    assert "javascript:" not in html


def test_the_nonce_is_in_the_header_when_a_template_uses_it(rf):
    from django.middleware.csp import ContentSecurityPolicyMiddleware
    from django.template import engines
    from django.template.context_processors import csp

    def view(request):
        from django.http import HttpResponse

        template = engines["django"].from_string("<script nonce='{{ csp_nonce }}'>1</script>")
        return HttpResponse(template.render(csp(request), request))

    request = rf.get("/")
    response = ContentSecurityPolicyMiddleware(view)(request)
    nonce = response.content.decode().split("nonce='")[1].split("'")[0]
    assert len(nonce) >= 16
    assert f"'nonce-{nonce}'" in csp_of(response)["script-src"]


def test_plain_http_settings_by_default():
    assert settings.SECURE_HSTS_SECONDS == 0
    assert settings.SESSION_COOKIE_SECURE is False
    assert settings.SECURE_PROXY_SSL_HEADER is None
    assert settings.SESSION_COOKIE_HTTPONLY is True


def run_django(code: str, **env: str) -> dict:
    """Run `code` after django.setup() in a fresh interpreter with `env`; it prints JSON."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WFAIB_OAUTH")}
    environ.update(DJANGO_SETTINGS_MODULE="wfaib.settings_test", DATABASE_URL="sqlite://:memory:",
                   ALLOWED_HOSTS="testserver",
                   **env)
    script = "import django, json\ndjango.setup()\n" + code
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


HTTPS_PROBE = """
from django.conf import settings
from django.test import Client
c = Client()
plain = c.get("/admin/login/")
tls = c.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")
health = c.get("/api/health")
cookie = tls.cookies.get("csrftoken")
print(json.dumps({
    "hsts_seconds": settings.SECURE_HSTS_SECONDS,
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "plain_status": plain.status_code, "plain_location": plain.get("Location", ""),
    "tls_status": tls.status_code, "hsts": tls.get("Strict-Transport-Security", ""),
    "csrf_cookie_secure": bool(cookie and cookie["secure"]),
    "health_status": health.status_code,
}))
"""


@pytest.mark.slow
def test_https_setting_turns_on_hsts_secure_cookies_and_the_redirect():
    result = run_django(HTTPS_PROBE, WFAIB_HTTPS="1", WFAIB_HSTS_SECONDS="600")
    assert result["hsts_seconds"] == 600
    assert result["session_secure"] is True
    assert result["plain_status"] == 301
    assert result["plain_location"].startswith("https://")
    assert result["tls_status"] == 200
    assert result["hsts"] == "max-age=600"
    assert result["csrf_cookie_secure"] is True
    assert result["health_status"] != 301  # probes over plain HTTP are not redirected


@pytest.mark.slow
def test_without_https_setting_no_hsts_and_no_redirect():
    result = run_django(HTTPS_PROBE, WFAIB_HTTPS="0")
    assert result["plain_status"] == 200
    assert result["hsts"] == ""
    assert result["csrf_cookie_secure"] is False


OAUTH_PROBE = """
from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.core.management import call_command
def url(name):
    try:
        return reverse(name)
    except NoReverseMatch:
        return None
call_command("check")
print(json.dumps({
    "apps": [a for a in settings.INSTALLED_APPS if a.startswith("allauth")],
    "github": url("github_login"), "google": url("google_login"),
    "middleware": "allauth.account.middleware.AccountMiddleware" in settings.MIDDLEWARE,
    "form_action": settings.SECURE_CSP["form-action"],
}))
"""


@pytest.mark.slow
def test_oauth_is_off_unless_configured():
    result = run_django(OAUTH_PROBE)
    assert result["apps"] == []
    assert result["github"] is None
    assert result["middleware"] is False


@pytest.mark.slow
def test_oauth_provider_is_installed_when_its_client_is_configured():
    result = run_django(OAUTH_PROBE, WFAIB_OAUTH_GITHUB_CLIENT_ID="id",
                        WFAIB_OAUTH_GITHUB_SECRET="secret")
    assert "allauth.socialaccount.providers.github" in result["apps"]
    assert "allauth.socialaccount.providers.google" not in result["apps"]
    assert result["github"] == "/accounts/github/login/"
    assert result["google"] is None
    assert result["middleware"] is True
    assert "https://github.com" in result["form_action"]
