"""Where node types come from: every module of `nodes.types` (found, not listed), then the
node packages installed in the environment that declare a `wfaib.nodes` entry point.

    # a node package's pyproject.toml
    [project.entry-points."wfaib.nodes"]
    acme = "acme_wfaib_nodes"          # a module whose import registers its types,
    # or "acme_wfaib_nodes.nodes:AcmeNode" for one NodeType class

`load_node_types()` runs once when Django starts (nodes.apps); a plugin that fails to load
is reported by the `wfaib.E009` system check with its name and the error, so a broken
package is never silently missing.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType

from . import types as builtin_types
from .base import NodeType
from .registry import registry

ENTRY_POINT_GROUP = "wfaib.nodes"
logger = logging.getLogger("wfaib.nodes")


@dataclass(frozen=True)
class PluginFailure:
    name: str  # the entry point: "acme = acme_wfaib_nodes"
    error: str


failures: list[PluginFailure] = []


def import_submodules(package: ModuleType) -> list[str]:
    """Import every module of a package (each registers its node types); their names."""
    names = []
    for info in pkgutil.iter_modules(package.__path__, prefix=f"{package.__name__}."):
        importlib.import_module(info.name)
        names.append(info.name)
    return names


def load_entry_point(entry: EntryPoint) -> None:
    """Load one `wfaib.nodes` entry point: a module registers its types as it is imported;
    a NodeType class is registered here."""
    loaded = entry.load()
    if isinstance(loaded, type) and issubclass(loaded, NodeType):
        registry.register(loaded)
    elif not isinstance(loaded, ModuleType):
        raise TypeError(f"{entry.value} is neither a module nor a NodeType class")


def load_plugins() -> list[str]:
    """Load every installed node package; the names of those that loaded. Failures are kept
    in `failures` for the system check (and logged)."""
    loaded = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        label = f"{entry.name} = {entry.value}"
        try:
            load_entry_point(entry)
        except Exception as exc:  # any error in third-party code: report, keep serving
            logger.exception("node package %s failed to load", label)
            failures.append(PluginFailure(label, f"{type(exc).__name__}: {exc}"))
        else:
            loaded.append(entry.name)
    return loaded


def load_node_types() -> None:
    import_submodules(builtin_types)
    load_plugins()
