from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("runs", "0006_sqlite_incremental_vacuum"),
    ]

    operations = [
        migrations.AddField(
            model_name="run",
            name="trace_context",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
    ]
