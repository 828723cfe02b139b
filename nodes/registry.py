"""The node-type registry: node modules register their classes here with `@register`.

    from nodes.registry import register, registry

    @register
    class MyNode(NodeType): ...

    registry.get("my_node")

The registry imports nothing from the apps. A duplicate type name raises ImproperlyConfigured at
import time; `nodes.checks` validates every registered class when Django starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from .base import NodeType


class NodeRegistry:
    def __init__(self) -> None:
        self._types: dict[str, type[NodeType]] = {}

    def register(self, cls: type[NodeType]) -> type[NodeType]:
        name = getattr(cls, "type", None)
        if not name or not isinstance(name, str):
            raise ImproperlyConfigured(f"{cls.__qualname__} must declare a string `type`.")
        if name in self._types and self._types[name] is not cls:
            raise ImproperlyConfigured(
                f"Node type {name!r} is registered twice "
                f"({self._types[name].__qualname__} and {cls.__qualname__})."
            )
        self._types[name] = cls
        return cls

    def unregister(self, name: str) -> None:
        self._types.pop(name, None)

    def get(self, name: str) -> type[NodeType]:
        return self._types[name]

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[type[NodeType]]:
        return iter(sorted(self._types.values(), key=lambda c: (c.category, c.type)))

    def names(self) -> list[str]:
        return sorted(self._types)

    @contextmanager
    def temporarily(self, cls: type[NodeType]) -> Iterator[type[NodeType]]:
        """Register `cls` for the duration of a block (tests), then restore the registry."""
        saved = dict(self._types)
        self.register(cls)
        try:
            yield cls
        finally:
            self._types = saved


registry = NodeRegistry()
register = registry.register
