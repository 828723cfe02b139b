"""The files a newcomer or a packager looks for first: LICENSE matching pyproject, the
contributing guide (its node example must really work), the changelog."""

import re
import tomllib
from pathlib import Path

import pytest
from django.conf import settings

from nodes.registry import registry
from runs.models import Run
from tests.factories import make_workflow, run_now, simple_definition

ROOT = Path(settings.BASE_DIR)


def test_license_file_is_the_license_pyproject_declares():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    assert declared == "MIT"
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in text


def test_contributing_covers_setup_tests_lint_conventions_and_nodes():
    text = (ROOT / "CONTRIBUTING.md").read_text()
    for heading in ("## Set up", "## Tests", "## Lint and types", "## Conventions",
                    "## Adding a node type"):
        assert heading in text
    assert (ROOT / "CHANGELOG.md").read_text().startswith("# Changelog")


@pytest.mark.django_db
def test_the_contributing_node_example_registers_and_runs():
    text = (ROOT / "CONTRIBUTING.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.DOTALL).group(1)
    code = re.sub(r"^ {3}", "", code, flags=re.MULTILINE)
    code = code.replace("from ..base import", "from nodes.base import")
    code = code.replace("from ..registry import register", "register = lambda cls: cls")
    namespace: dict = {}
    exec(compile(code, "CONTRIBUTING.md", "exec"), namespace)
    with registry.temporarily(namespace["UpperNode"]):
        workflow = make_workflow(definition=simple_definition(
            {"id": "up", "type": "upper", "config": {"field": "name"}}))
        run = run_now(workflow, input={"name": "ada"})
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.result == {"name": "ADA"}
    assert "upper" not in registry
