"""Third-party node packages: a package declaring a `wfaib.nodes` entry point is loaded, its
node type is served at /api/node-types and runs in a workflow; a broken one is reported by the
system check instead of silently missing."""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path

import pytest

from nodes import plugins
from nodes.checks import check_node_packages
from nodes.registry import registry
from runs.models import Run
from tests.factories import make_workflow, run_now, simple_definition

PACKAGE = Path(__file__).parent / "plugin_pkg"


def install(project: Path, target: Path) -> None:
    """Install a pure-Python project into `target` as an installer does: its packages, and
    a dist-info with the metadata and the entry points its pyproject declares."""
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    for package in (project / "src").iterdir():
        shutil.copytree(package, target / package.name)
    dist = target / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n")
    lines = []
    for group, entries in meta.get("entry-points", {}).items():
        lines.append(f"[{group}]")
        lines.extend(f"{name} = {value}" for name, value in entries.items())
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """A site directory on sys.path holding the example node package, installed."""
    target = tmp_path_factory.mktemp("site")
    install(PACKAGE, target)
    sys.path.insert(0, str(target))
    yield target
    sys.path.remove(str(target))
    sys.modules.pop("wfaib_example_nodes", None)


@pytest.fixture
def plugin_loaded(site):
    """The installed packages loaded as at start-up; the registry restored afterwards."""
    saved = dict(registry._types)
    sys.modules.pop("wfaib_example_nodes", None)  # imported afresh: its types register again
    loaded = plugins.load_plugins()
    yield loaded
    registry._types = saved
    plugins.failures.clear()


def test_an_installed_node_package_is_loaded_from_its_entry_point(plugin_loaded):
    assert "example" in plugin_loaded
    assert "example_greet" in registry
    assert not plugins.failures


@pytest.mark.django_db
def test_its_node_type_is_served_and_runs(plugin_loaded, user, client):
    from accounts.tokens import token_create

    _, key = token_create(user=user, name="test")
    body = client.get("/api/node-types", HTTP_AUTHORIZATION=f"Token {key}").json()
    greet = next(t for t in body if t["type"] == "example_greet")
    assert greet["label"] == "Greet (example package)"
    assert greet["version"] == 1
    assert set(greet["config_schema"]["properties"]) == {"greeting", "shout"}

    definition = simple_definition({"id": "greet", "type": "example_greet",
                                    "config": {"greeting": "Hi {{ input.title }}",
                                               "shout": True}})
    run = run_now(make_workflow(owner=user, definition=definition),
                  input={"name": "Ada", "title": "Dr"})
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.result == {"greeting": "HI DR, ADA!"}


def test_a_package_that_fails_to_load_is_reported_by_the_system_check(tmp_path, site):
    dist = tmp_path / "wfaib_broken_nodes-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: wfaib-broken-nodes\n"
                                   "Version: 1.0\n")
    (dist / "entry_points.txt").write_text("[wfaib.nodes]\nbroken = wfaib_missing_module\n")
    sys.path.insert(0, str(tmp_path))
    saved = dict(registry._types)
    try:
        loaded = plugins.load_plugins()
        errors = check_node_packages()
    finally:
        sys.path.remove(str(tmp_path))
        registry._types = saved
        plugins.failures.clear()
    assert "broken" not in loaded
    assert "example" in loaded
    assert len(errors) == 1
    assert errors[0].id == "wfaib.E009"
    assert "broken = wfaib_missing_module" in errors[0].msg
    assert "ModuleNotFoundError" in errors[0].msg


def test_an_entry_point_naming_a_class_registers_it(tmp_path, site):
    dist = tmp_path / "wfaib_class_nodes-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: wfaib-class-nodes\n"
                                   "Version: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[wfaib.nodes]\ngreet = wfaib_example_nodes:GreetNode\n")
    sys.path.insert(0, str(tmp_path))
    saved = dict(registry._types)
    sys.modules.pop("wfaib_example_nodes", None)
    try:
        registry._types.pop("example_greet", None)
        loaded = plugins.load_plugins()
        assert "greet" in loaded
        assert registry.get("example_greet").__name__ == "GreetNode"
    finally:
        sys.path.remove(str(tmp_path))
        registry._types = saved
        plugins.failures.clear()


def test_node_modules_are_found_not_listed(tmp_path, monkeypatch):
    package = tmp_path / "more_nodes"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in ("alpha", "beta"):
        (package / f"{name}.py").write_text(
            "from nodes.base import NodeType\nfrom nodes.registry import register\n\n\n"
            f"@register\nclass Node(NodeType):\n    type = 'found_{name}'\n"
            "    def run(self, ctx, config, input):\n        return input\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    saved = dict(registry._types)
    try:
        import more_nodes

        found = plugins.import_submodules(more_nodes)
        assert found == ["more_nodes.alpha", "more_nodes.beta"]
        assert "found_alpha" in registry
        assert "found_beta" in registry
    finally:
        registry._types = saved
        for name in ("more_nodes", "more_nodes.alpha", "more_nodes.beta"):
            sys.modules.pop(name, None)


def test_every_built_in_module_registers_a_type():
    from nodes import types

    modules = {name.rsplit(".", 1)[1] for name in plugins.import_submodules(types)}
    assert modules == {cls.__module__.rsplit(".", 1)[1] for cls in registry
                       if cls.__module__.startswith("nodes.types.")}
