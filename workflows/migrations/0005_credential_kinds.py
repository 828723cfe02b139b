"""Credentials stored with free-text kinds take the typed kind they meant
(workflows.credential_kinds.LEGACY_KINDS); an `http_header` credential's {name, value} become
{header_name, api_key}. Kinds nobody recognises are left as they are (they keep working)."""

from django.db import migrations

LEGACY_KINDS = {"http_header": "api_key_header", "header": "api_key_header",
                "api_key": "api_key_header", "bearer": "bearer_token",
                "basic": "basic_auth", "postgres": "database", "postgresql": "database",
                "mysql": "database", "sqlite": "database", "email": "smtp"}
# Old field names of a header credential -> the api_key_header fields.
HEADER_FIELDS = {"name": "header_name", "header": "header_name", "value": "api_key",
                 "key": "api_key"}


def typed_kinds(apps, schema_editor):
    from workflows.crypto import decrypt_json, encrypt_json

    Credential = apps.get_model("workflows", "Credential")
    for credential in Credential.objects.filter(kind__in=list(LEGACY_KINDS)):
        credential.kind = LEGACY_KINDS[credential.kind]
        if credential.kind == "api_key_header" and credential.encrypted_data:
            data = decrypt_json(credential.encrypted_data)
            if isinstance(data, dict):
                data = {HEADER_FIELDS.get(k, k): v for k, v in data.items()}
                credential.encrypted_data = encrypt_json(data)
        credential.save(update_fields=["kind", "encrypted_data"])


class Migration(migrations.Migration):

    dependencies = [("workflows", "0004_variable")]

    operations = [migrations.RunPython(typed_kinds, migrations.RunPython.noop)]
