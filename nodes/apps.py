from django.apps import AppConfig


class NodesConfig(AppConfig):
    name = "nodes"
    verbose_name = "Node types"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system check
        from .plugins import load_node_types

        load_node_types()  # every built-in module, then installed node packages
