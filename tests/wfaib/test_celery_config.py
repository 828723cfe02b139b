"""Celery is configured from Django's CELERY_ settings, read once into a plain mapping
(wfaib/celery.py DjangoCelerySettings) rather than looked up on Django's settings object on
every task sent."""

from django.conf import settings

from wfaib.celery import DjangoCelerySettings, app


def test_celery_reads_the_projects_celery_settings():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_ignore_result is True
    assert app.conf.get("CELERY_DB_REUSE_MAX") == settings.CELERY_DB_REUSE_MAX  # Celery's fixup


def test_the_mapping_holds_exactly_the_celery_prefixed_settings():
    values = DjangoCelerySettings()
    names = {name for name in dir(settings) if name.startswith("CELERY_")}
    assert set(values) == names
    assert len(values) == len(names)
    assert values["CELERY_TASK_DEFAULT_QUEUE"] == settings.CELERY_TASK_DEFAULT_QUEUE
    assert "SECRET_KEY" not in values
    assert "DATABASES" not in values


def test_the_app_reads_the_mapping_not_djangos_settings_object():
    app.conf.task_default_queue  # noqa: B018 (configures the app if it was not yet)
    assert isinstance(app.loader.conf, DjangoCelerySettings)
