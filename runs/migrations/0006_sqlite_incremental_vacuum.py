"""SQLite only: switch the database file to auto_vacuum=INCREMENTAL, so that run pruning
(runs/retention.py, `PRAGMA incremental_vacuum`) can give freed pages back to the file system.
The mode of an existing file changes only with a VACUUM, which rewrites the file once (it needs
free disk space about the database's size, and cannot run in a transaction: atomic=False).
Nothing on PostgreSQL."""

from django.db import migrations

INCREMENTAL = 2


def incremental_auto_vacuum(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA auto_vacuum")
        if cursor.fetchone()[0] == INCREMENTAL:
            return
        cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
        if connection.in_atomic_block:  # VACUUM cannot run in a transaction
            return
        cursor.execute("VACUUM")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("runs", "0005_run_file"),
    ]

    operations = [
        migrations.RunPython(incremental_auto_vacuum, migrations.RunPython.noop,
                             elidable=True),
    ]
