"""Typed credential kinds: each kind's JSON Schema is served, validates what the API stores
(400 naming the field, never echoing a secret), and filters the editor's picker."""

from __future__ import annotations

import importlib

import pytest

from accounts.models import Membership, Project, Role
from accounts.services import project_create
from tests.factories import UserFactory
from workflows.credential_kinds import KINDS, secret_fields
from workflows.models import Credential
from workflows.services import credential_create, credential_share

pytestmark = pytest.mark.django_db

CONTRACT = {  # the shared contract's kinds and data fields
    "api_key_header": {"header_name", "api_key"}, "bearer_token": {"token"},
    "basic_auth": {"username", "password"},
    "oauth2": {"grant_type", "token_url", "authorize_url", "client_id", "client_secret",
               "scope", "access_token", "refresh_token", "expires_at"},
    "openai": {"api_key", "base_url", "organization"}, "anthropic": {"api_key", "base_url"},
    "smtp": {"host", "port", "username", "password", "security", "from_address"},
    "imap": {"host", "port", "username", "password", "ssl", "mailbox"},
    "database": {"url"},
    "s3": {"endpoint_url", "region", "bucket", "access_key_id", "secret_access_key"},
}


def test_the_kinds_are_the_contracts_with_their_fields_and_secrets(api):
    body = api.get("/api/credential-kinds").json()
    assert {k["kind"]: set(k["schema"]["properties"]) for k in body} == CONTRACT
    smtp = next(k for k in body if k["kind"] == "smtp")
    assert smtp["secret_fields"] == ["password"]
    password = smtp["schema"]["properties"]["password"]
    assert password["x-secret"] is True
    assert password["format"] == "password"
    assert secret_fields("oauth2") == ("client_secret", "access_token", "refresh_token")
    assert secret_fields("database") == ("url",)  # a URL holds its password


def create(api, kind, data, name="c"):
    return api.post("/api/credentials", {"name": name, "kind": kind, "data": data},
                    format="json")


def test_valid_data_of_each_kind_is_stored(api):
    examples = {
        "api_key_header": {"header_name": "X-Api-Key", "api_key": "k"},
        "bearer_token": {"token": "t"}, "basic_auth": {"username": "u", "password": "p"},
        "oauth2": {"grant_type": "client_credentials", "token_url": "https://a.example/t",
                   "client_id": "id", "client_secret": "s"},
        "openai": {"api_key": "sk-1"}, "anthropic": {"api_key": "a"},
        "smtp": {"host": "mail.example.com", "port": 465, "security": "ssl",
                 "from_address": "a@example.com"},
        "imap": {"host": "h", "username": "u", "password": "p", "ssl": False},
        "database": {"url": "postgresql://u:p@127.0.0.1/db"},
        "s3": {"bucket": "b", "endpoint_url": "http://127.0.0.1:9000"},
    }
    assert set(examples) == set(KINDS)
    for kind, data in examples.items():
        response = create(api, kind, data, name=kind)
        assert response.status_code == 201, (kind, response.json())


@pytest.mark.parametrize(("kind", "data", "field"), [
    ("smtp", {"host": "h", "port": "twenty-five"}, "data.port"),
    ("smtp", {"host": "h", "port": 70000}, "data.port"),
    ("smtp", {"host": "h", "security": "tls"}, "data.security"),
    ("smtp", {"port": 25}, "data.host"),
    ("smtp", {"host": "h", "pasword": "x"}, "data.pasword"),
    ("oauth2", {"grant_type": "authorization_code", "token_url": "https://a.example/t",
                "client_id": "c"}, "data.authorize_url"),
    ("oauth2", {"grant_type": "client_credentials", "token_url": "ftp://x/t",
                "client_id": "c"}, "data.token_url"),
    ("database", {"url": "mongodb://u:hunter2@h/db"}, "data.url"),
    ("bearer_token", {"token": 12345}, "data.token"),
    ("bearer_token", {"token": {"$env": "A B"}}, "data.token"),
    ("bearer_token", {"token": {"$vault": "nokey"}}, "data.token"),
    ("bearer_token", {"token": {"$env": "SECRET_KEY"}}, "data.token"),
])
def test_invalid_data_answers_400_naming_the_field(api, kind, data, field):
    response = create(api, kind, data)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["fields"], body
    assert "hunter2" not in str(body)
    assert "12345" not in str(body)


def test_an_unknown_kind_is_refused_and_an_update_is_validated_too(api):
    refused = create(api, "carrier_pigeon", {})
    assert refused.status_code == 400
    assert "kind" in refused.json()["fields"]
    created = create(api, "bearer_token", {"token": "t"}).json()
    bad = api.patch(f"/api/credentials/{created['id']}", {"data": {"tokn": "t"}},
                    format="json")
    assert bad.status_code == 400
    assert "data.tokn" in bad.json()["fields"]
    # a kind change is checked against the stored data
    moved = api.patch(f"/api/credentials/{created['id']}", {"kind": "basic_auth"},
                      format="json")
    assert moved.status_code == 400
    assert "data.username" in moved.json()["fields"]


def test_external_values_are_accepted_in_place_of_a_field(api):
    response = create(api, "basic_auth", {"username": "u",
                                          "password": {"$env": "WFAIB_SECRET_MY_PW"}})
    assert response.status_code == 201, response.json()
    response = create(api, "bearer_token", {"token": {"$vault": "secret/app#token"}}, "v")
    assert response.status_code == 201, response.json()


def test_a_credential_with_an_old_free_text_kind_keeps_working(api, user):
    old = credential_create(owner=user, name="legacy", kind="my_own", data={"x": 1})
    renamed = api.patch(f"/api/credentials/{old.pk}", {"name": "legacy2"}, format="json")
    assert renamed.status_code == 200
    assert Credential.objects.get(pk=old.pk).data == {"x": 1}


def test_the_picker_lists_usable_credentials_of_the_kinds_asked_for(api, user):
    mine = credential_create(owner=user, name="mail", kind="smtp", data={"host": "h"})
    credential_create(owner=user, name="key", kind="openai", data={"api_key": "k"})
    stranger = UserFactory()
    theirs = credential_create(owner=stranger, name="their-mail", kind="smtp",
                               data={"host": "h"})
    hidden = credential_create(owner=stranger, name="hidden", kind="smtp", data={"host": "h"})
    credential_share(credential=theirs, project=Project.objects.get(personal_owner=user))
    # A team where the user is only a viewer: they see its credentials but may not use them.
    team = project_create(name="team", creator=stranger)
    Membership.objects.create(project=team, user=user, role=Role.VIEWER)
    viewed = credential_create(owner=stranger, name="team-mail", kind="smtp",
                               data={"host": "h"}, project=team)
    listed = api.get("/api/credentials").json()["results"]
    assert viewed.pk in {c["id"] for c in listed}
    picked = api.get("/api/credentials?kind=smtp").json()["results"]
    assert {c["id"] for c in picked} == {mine.pk, theirs.pk}
    assert hidden.pk not in {c["id"] for c in picked}
    both = api.get("/api/credentials?kind=smtp,openai").json()["count"]
    assert both == 3
    bad = api.get("/api/credentials?kind=smtp,telegraph")
    assert bad.status_code == 400
    assert "kind" in bad.json()["fields"]


def test_the_migration_maps_old_kind_names(user):
    migration = importlib.import_module("workflows.migrations.0005_credential_kinds")
    header = credential_create(owner=user, name="h", kind="http_header",
                               data={"name": "X-Key", "value": "v"})
    basic = credential_create(owner=user, name="b", kind="basic_auth",
                              data={"username": "u", "password": "p"})
    other = credential_create(owner=user, name="o", kind="whatever", data={"a": 1})
    from django.apps import apps

    migration.typed_kinds(apps, None)
    header.refresh_from_db()
    assert (header.kind, header.data) == ("api_key_header",
                                          {"header_name": "X-Key", "api_key": "v"})
    assert Credential.objects.get(pk=basic.pk).kind == "basic_auth"
    assert Credential.objects.get(pk=other.pk).kind == "whatever"
