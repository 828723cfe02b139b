"""System check: every registered node type declares a valid contract (runs at start-up)."""

from django.core import checks

from .base import NodeConfig, NodeType
from .registry import registry


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
    return errors
