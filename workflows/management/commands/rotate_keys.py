"""`manage.py rotate_keys`: re-encrypt every stored secret with the newest key.

Put the new key first in WFAIB_CREDENTIAL_KEYS (keeping the old ones after it), run this, then
drop the old keys. Credentials' data (MultiFernet.rotate) and the sealed secrets of every
workflow definition and saved version are rewritten.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from workflows.crypto import rotate_token
from workflows.models import Credential, Workflow, WorkflowVersion


class Command(BaseCommand):
    help = "Re-encrypt credentials and definition secrets with the newest credential key."

    def handle(self, *args, **options) -> None:
        credentials = definitions = 0
        for pk in Credential.objects.values_list("pk", flat=True).iterator():
            with transaction.atomic():
                credential = Credential.objects.select_for_update().get(pk=pk)
                Credential.objects.filter(pk=pk).update(
                    encrypted_data=rotate_token(credential.encrypted_data))
            credentials += 1
        for model in (Workflow, WorkflowVersion):
            for pk in model.objects.values_list("pk", flat=True).iterator():
                # read (decrypted with any key), write (sealed with the newest)
                definition = model.objects.filter(pk=pk).values_list(
                    "definition", flat=True)[0]
                model.objects.filter(pk=pk).update(definition=definition)
                definitions += 1
        self.stdout.write(f"re-encrypted {credentials} credentials and {definitions} "
                          f"definitions with the newest key")
