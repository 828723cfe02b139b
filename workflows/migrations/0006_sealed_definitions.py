"""Node-config secrets in workflow definitions and every saved version are encrypted at rest
(workflows.fields.SealedJSONField): the definitions stored so far are rewritten through the
field, which seals them."""

from django.db import migrations

import workflows.fields


def seal_stored(apps, schema_editor):
    for name in ("Workflow", "WorkflowVersion"):
        Model = apps.get_model("workflows", name)
        for pk in Model.objects.values_list("pk", flat=True).iterator():
            # read (plain or sealed) and write back through the field: sealed
            definition = Model.objects.filter(pk=pk).values_list("definition", flat=True)[0]
            Model.objects.filter(pk=pk).update(definition=definition)


class Migration(migrations.Migration):

    dependencies = [
        ('workflows', '0005_credential_kinds'),
    ]

    operations = [
        migrations.AlterField(
            model_name='workflow',
            name='definition',
            field=workflows.fields.SealedJSONField(default=dict),
        ),
        migrations.AlterField(
            model_name='workflowversion',
            name='definition',
            field=workflows.fields.SealedJSONField(),
        ),
        migrations.RunPython(seal_stored, migrations.RunPython.noop),
    ]
