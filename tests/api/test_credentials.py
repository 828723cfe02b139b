"""Credentials: owned, named, secret data write-only and encrypted at rest."""

import pytest
from django.db import connection

from workflows.models import Credential

pytestmark = pytest.mark.django_db


def test_create_never_returns_the_secret_and_stores_it_encrypted(api, user):
    response = api.post("/api/credentials", {"name": "openai", "kind": "openai",
                                             "data": {"api_key": "sk-very-secret"}},
                        format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"id", "name", "kind", "owner", "project", "shared_with", "created_at",
                         "updated_at"}
    assert body["owner"] == user.email
    assert "sk-very-secret" not in str(api.get(f"/api/credentials/{body['id']}").json())
    assert "sk-very-secret" not in str(api.get("/api/credentials").json())
    with connection.cursor() as cursor:
        cursor.execute("SELECT encrypted_data FROM workflows_credential")
        (stored,) = cursor.fetchone()
    assert "sk-very-secret" not in stored
    assert Credential.objects.get(pk=body["id"]).data == {"api_key": "sk-very-secret"}


def test_update_replaces_the_secret_and_rename(api):
    created = api.post("/api/credentials", {"name": "a", "kind": "basic_auth",
                                            "data": {"username": "u", "password": "p"}},
                       format="json").json()
    response = api.patch(f"/api/credentials/{created['id']}",
                         {"name": "b", "data": {"username": "u", "password": "q"}},
                         format="json")
    assert response.status_code == 200
    stored = Credential.objects.get(pk=created["id"])
    assert stored.name == "b"
    assert stored.data == {"username": "u", "password": "q"}


def test_names_are_unique_per_owner(api, other_api):
    payload = {"name": "dup", "kind": "bearer_token", "data": {"token": "t"}}
    assert api.post("/api/credentials", payload, format="json").status_code == 201
    again = api.post("/api/credentials", payload, format="json")
    assert again.status_code == 400
    assert "name" in again.json()["fields"]
    assert other_api.post("/api/credentials", payload, format="json").status_code == 201


def test_data_must_be_an_object(api):
    response = api.post("/api/credentials", {"name": "a", "kind": "bearer_token",
                                             "data": "secret"},
                        format="json")
    assert response.status_code == 400
    assert "data" in response.json()["fields"]


def test_delete(api):
    created = api.post("/api/credentials", {"name": "a", "kind": "bearer_token",
                                            "data": {"token": "t"}}, format="json").json()
    assert api.delete(f"/api/credentials/{created['id']}").status_code == 204
    assert not Credential.objects.exists()


def test_key_rotation_keeps_old_secrets_readable(user, settings):
    from cryptography.fernet import Fernet

    from workflows.services import credential_create

    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.WFAIB = {**settings.WFAIB, "CREDENTIAL_KEYS": [old_key]}
    credential = credential_create(owner=user, name="c", kind="x", data={"k": 1})
    settings.WFAIB = {**settings.WFAIB, "CREDENTIAL_KEYS": [new_key, old_key]}
    assert Credential.objects.get(pk=credential.pk).data == {"k": 1}
    settings.WFAIB = {**settings.WFAIB, "CREDENTIAL_KEYS": [new_key]}
    from cryptography.fernet import InvalidToken

    with pytest.raises(InvalidToken):
        _ = Credential.objects.get(pk=credential.pk).data
