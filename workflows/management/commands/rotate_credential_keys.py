"""`manage.py rotate_credential_keys`: encrypt every credential again under the first key of
WFAIB_CREDENTIAL_KEYS (README, "Key rotation"). Afterwards the older keys, and SECRET_KEY (from
which a key is derived while WFAIB_CREDENTIAL_KEYS is empty), may be removed or changed.
Each credential is rewritten in its own short transaction; running it twice is harmless."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from workflows.crypto import reencrypt
from workflows.models import Credential

BATCH = 200


class Command(BaseCommand):
    help = "Re-encrypt every stored credential under the newest credential key."

    def handle(self, *args, **options):
        done = 0
        ids = list(Credential.objects.order_by("id").values_list("id", flat=True))
        for start in range(0, len(ids), BATCH):
            for pk in ids[start:start + BATCH]:
                with transaction.atomic():
                    row = Credential.objects.select_for_update().filter(pk=pk).first()
                    if row is None:
                        continue
                    try:
                        token = reencrypt(row.encrypted_data)
                    except Exception as exc:  # InvalidToken: no configured key opens it
                        raise CommandError(f"credential {pk} ({row.name}): none of the keys "
                                           f"decrypts it ({type(exc).__name__})") from None
                    Credential.objects.filter(pk=pk).update(encrypted_data=token)
                    done += 1
        self.stdout.write(f"Re-encrypted {done} credential(s) under the newest key.")
