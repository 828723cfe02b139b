from django.apps import AppConfig


class AiConfig(AppConfig):
    name = "ai"
    verbose_name = "AI memory and vectors"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from .vectors import load_sqlite_vec

        connection_created.connect(load_sqlite_vec, dispatch_uid="wfaib-sqlite-vec")
