from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("workflows", "0007_workflow_webhook_path"),
    ]

    operations = [
        migrations.AddField(
            model_name="workflow",
            name="retention_days",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="workflow",
            name="retention_max_runs",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
    ]
