"""The credential admin: a kind chooser, a form generated from the kind's schema, secret inputs
write-only (never rendered back; blank keeps the stored value), schema errors on the field."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory
from workflows.models import Credential
from workflows.services import credential_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory(is_staff=True)


@pytest.fixture
def page(staff):
    client = Client()
    client.force_login(staff)
    return client


def test_add_asks_for_the_kind_then_shows_its_fields(page):
    chooser = page.get("/admin/workflows/credential/add/")
    assert chooser.status_code == 200
    assert b"?kind=smtp" in chooser.content
    form = page.get("/admin/workflows/credential/add/?kind=smtp").content.decode()
    for name in ("host", "port", "username", "password", "security", "from_address"):
        assert f'name="data__{name}"' in form
    assert 'type="password" name="data__password"' in form


def test_create_validates_against_the_schema_and_stores_encrypted(page, staff):
    bad = page.post("/admin/workflows/credential/add/?kind=smtp",
                    {"name": "mail", "data__host": "h", "data__port": "70000",
                     "data__security": "starttls", "data__password": "pw-admin-1"})
    assert bad.status_code == 200
    assert b"70000 is greater than the maximum of 65535" in bad.content
    assert b"pw-admin-1" not in bad.content
    ok = page.post("/admin/workflows/credential/add/?kind=smtp",
                   {"name": "mail", "data__host": "h", "data__port": "25",
                    "data__security": "none", "data__password": "pw-admin-1"})
    assert ok.status_code == 302, ok.content[:2000]
    credential = Credential.objects.get(name="mail")
    assert credential.kind == "smtp"
    assert credential.data == {"host": "h", "port": 25, "security": "none",
                               "password": "pw-admin-1"}
    assert credential.owner == staff


def test_a_secret_is_never_shown_and_blank_keeps_it(page, staff):
    credential = credential_create(owner=staff, name="key", kind="api_key_header",
                                   data={"header_name": "X-Key", "api_key": "k-stored-1"})
    url = f"/admin/workflows/credential/{credential.pk}/change/"
    shown = page.get(url).content.decode()
    assert "k-stored-1" not in shown
    assert 'value="X-Key"' in shown
    saved = page.post(url, {"name": "key2", "data__header_name": "X-Other",
                            "data__api_key": ""})
    assert saved.status_code == 302
    credential.refresh_from_db()
    assert credential.data == {"header_name": "X-Other", "api_key": "k-stored-1"}
    assert credential.name == "key2"


def test_the_test_page_runs_the_check(page, staff, tmp_path, settings):
    import sqlite3

    settings.WFAIB = {**settings.WFAIB, "SQLITE_DIRS": [str(tmp_path)]}
    path = tmp_path / "d.db"
    sqlite3.connect(path).close()
    credential = credential_create(owner=staff, name="db", kind="database",
                                   data={"url": f"sqlite:///{path}"})
    response = page.post(f"/admin/workflows/credential/{credential.pk}/test/", {})
    assert b"OK: opened the SQLite database and ran SELECT 1" in response.content
