from django.apps import AppConfig


class NodesConfig(AppConfig):
    name = "nodes"
    verbose_name = "Node types"

    def ready(self) -> None:
        # Importing the package registers every built-in node type.
        from . import checks, types  # noqa: F401
