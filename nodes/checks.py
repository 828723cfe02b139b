"""System check: every registered node type declares a valid contract (runs at start-up)."""

from django.core import checks

from .base import NodeConfig, NodeType
from .plugins import ENTRY_POINT_GROUP, failures
from .registry import registry


@checks.register()
def check_node_packages(app_configs=None, **kwargs):
    """A node package (`wfaib.nodes` entry point) that failed to load."""
    return [checks.Error(f"node package {failure.name} failed to load: {failure.error}",
                         hint=f"fix or uninstall the package that declares this "
                              f"{ENTRY_POINT_GROUP!r} entry point",
                         obj="nodes: plugins", id="wfaib.E009")
            for failure in failures]


@checks.register()
def check_node_types(app_configs=None, **kwargs):
    errors = []
    for cls in registry:
        where = f"nodes: {cls.__module__}.{cls.__qualname__}"

        def err(msg: str, code: str, where: str = where) -> None:
            errors.append(checks.Error(msg, obj=where, id=f"wfaib.{code}"))

        if not issubclass(cls, NodeType):
            err("is not a NodeType subclass", "E001")
            continue
        if not cls.label or not cls.description:
            err("must declare a label and a description", "E002")
        if not (isinstance(cls.Config, type) and issubclass(cls.Config, NodeConfig)):
            err("Config must be a NodeConfig (pydantic) subclass", "E003")
            continue
        fields = set(cls.Config.model_fields)
        for name in cls.secret_fields:
            if name not in fields:
                err(f"secret field {name!r} is not a config field", "E004")
        if not cls.outputs:
            err("must declare at least one output port", "E005")
        if cls.is_trigger and cls.inputs:
            err("a trigger node takes no inputs", "E006")
        if cls.timeout <= 0:
            err("timeout must be positive", "E007")
        if cls.run is NodeType.run:
            err("must implement run()", "E008")
        if not isinstance(cls.version, int) or isinstance(cls.version, bool) or cls.version < 1:
            err("version must be a positive integer", "E010")
    return errors
