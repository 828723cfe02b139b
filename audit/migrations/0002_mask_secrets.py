"""Mask secrets that events written before the one masking rule (wfaib.masking) kept in plain
text: workflow.create/delete events held whole definitions (an llm api_key, HTTP
Authorization headers)."""

from django.db import migrations

from wfaib.masking import mask


def mask_events(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    for event in AuditEvent.objects.only("id", "diff", "extra").iterator():
        diff, extra = mask(event.diff), mask(event.extra)
        if diff is not event.diff or extra is not event.extra:
            AuditEvent.objects.filter(pk=event.pk).update(diff=diff, extra=extra)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(mask_events, migrations.RunPython.noop)]
