"""Browser tests: Playwright for Python driving Debian's Chromium against pytest-django's
live server. Skipped (with the reason) only when /usr/bin/chromium is missing; `.ci/run`
installs it. A failing test leaves a screenshot in test-artifacts/."""

import os
import re
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run in a
# thread with a running loop unless told this is deliberate (the loop never awaits the ORM).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from .walk import walk  # noqa: F401  (the editor walk's fixture, issue 19)

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery"


# The layout variants (phone width, dark theme) test CSS, which no database changes: on
# PostgreSQL only the desktop-light variant of each walk runs (every browser flow still meets
# PostgreSQL once), which keeps CI's two suites under its time budget. WFAIB_E2E_EVERY_VARIANT=1
# runs them all there too.
OTHER_VARIANTS = re.compile(r"(^|-)(phone|dark)(-|$)")


def _on_postgresql() -> bool:
    from django.conf import settings

    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    every = os.environ.get("WFAIB_E2E_EVERY_VARIANT") == "1" or not _on_postgresql()
    kept, dropped = [], []
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.e2e)
            spec = getattr(item, "callspec", None)
            if not every and spec is not None and OTHER_VARIANTS.search(spec.id):
                dropped.append(item)
                continue
        kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); .ci/run installs it")
    from playwright.sync_api import expect, sync_playwright

    # Assertions retry until true; give a busy 2-core CI machine room (not a timing check).
    expect.set_options(timeout=20_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()


@pytest.fixture
def e2e_user(transactional_db):
    from django.db import connections

    from tests.factories import UserFactory

    yield UserFactory(is_staff=True, is_superuser=True)
    conn = connections["default"]
    if conn.vendor == "postgresql":
        # The run executor's threads and the live server keep connections open; end them so
        # the test database can be flushed and dropped (threads reconnect on next use).
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture
def loopback_allowed(settings):
    settings.WFAIB = {**settings.WFAIB, "HTTP_ALLOW": ["127.0.0.1", "::1"]}


def sign_in(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base_url}/admin/")
