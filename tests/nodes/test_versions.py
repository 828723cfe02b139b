"""Node type versions: a type whose config changed shape (v1 -> v2) keeps running workflows
saved with v1 (their config is migrated when read); new saves carry the version they were
written for; a version from the future is refused naming the field."""

from typing import Any

import pytest

from nodes.base import NodeConfig, NodeType
from nodes.context import NodeContext
from nodes.registry import registry
from nodes.versions import node_config, stamp_versions
from runs.models import Run
from tests.factories import make_workflow, run_now, simple_definition
from workflows.validation import validate_definition

pytestmark = pytest.mark.django_db


class NoteV1Config(NodeConfig):
    text: str
    upper: bool = False


class NoteV1(NodeType):
    type = "versioned_note"
    label = "Note"
    description = "Version 1: {text, upper}."
    Config = NoteV1Config
    pure = True

    def run(self, ctx: NodeContext, config: NoteV1Config, input: Any) -> Any:
        return config.text.upper() if config.upper else config.text


class NoteV2Config(NodeConfig):
    message: str
    style: str = "plain"  # "plain" | "loud"


class NoteV2(NodeType):
    type = "versioned_note"
    label = "Note"
    description = "Version 2: {message, style}."
    Config = NoteV2Config
    pure = True
    version = 2

    @classmethod
    def migrate_config(cls, old_version: int, config: dict[str, Any]) -> dict[str, Any]:
        if old_version == 1:
            config["message"] = config.pop("text")
            config["style"] = "loud" if config.pop("upper", False) else "plain"
        return config

    def run(self, ctx: NodeContext, config: NoteV2Config, input: Any) -> Any:
        return {"message": config.message.upper() if config.style == "loud" else config.message,
                "style": config.style}


def note(config: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "note", "type": "versioned_note", "config": config, **extra}


def test_a_workflow_saved_with_v1_runs_after_the_type_moves_to_v2(user):
    with registry.temporarily(NoteV1):
        workflow = make_workflow(owner=user, definition=simple_definition(
            note({"text": "hi {{ input.name }}", "upper": True})))
        assert run_now(workflow, input={"name": "ada"}).result == "HI ADA"
    saved = next(n for n in workflow.definition["nodes"] if n["id"] == "note")
    assert "version" not in saved  # saved as version 1

    with registry.temporarily(NoteV2):
        assert validate_definition(workflow.definition) == []
        run = run_now(workflow, input={"name": "ada"})
        assert run.status == Run.Status.SUCCEEDED, run.error
        assert run.result == {"message": "HI ADA", "style": "loud"}


def test_new_saves_carry_the_current_version_and_run_as_written(user):
    with registry.temporarily(NoteV2):
        workflow = make_workflow(owner=user, definition=simple_definition(
            note({"message": "hello", "style": "plain"})))
        saved = next(n for n in workflow.definition["nodes"] if n["id"] == "note")
        assert saved["version"] == 2
        assert run_now(workflow).result == {"message": "hello", "style": "plain"}
        assert NoteV2.describe()["version"] == 2


def test_a_v1_config_without_migration_would_not_validate_as_v2():
    """The migration is what keeps the old shape valid (so the test above can fail)."""
    with registry.temporarily(NoteV2):
        errors = validate_definition(simple_definition(note({"text": "x"}, version=2)))
    assert {e["path"] for e in errors} >= {"nodes[1].config.message", "nodes[1].config.text"}


@pytest.mark.parametrize(("version", "message"), [
    (3, "'versioned_note' is at version 2 on this server; this node was saved with version 3"),
    (0, "must be a positive integer"),
    ("2", "must be a positive integer"),
    (True, "must be a positive integer"),
])
def test_an_unreadable_version_is_refused_naming_the_field(version, message):
    with registry.temporarily(NoteV2):
        errors = validate_definition(simple_definition(note({"message": "x"}, version=version)))
    assert {"path": "nodes[1].version", "message": message} in errors


def test_migrations_apply_step_by_step():
    class NoteV3(NoteV2):
        version = 3

        @classmethod
        def migrate_config(cls, old_version: int, config: dict[str, Any]) -> dict[str, Any]:
            config = super().migrate_config(old_version, config)
            if old_version == 2:
                config["message"] = config["message"].strip()
            return config

    original = {"text": "  hi  ", "upper": False}
    assert node_config(NoteV3, {"config": original}) == {"message": "hi", "style": "plain"}
    assert node_config(NoteV3, {"config": {"message": " a ", "style": "loud"}, "version": 2}) \
        == {"message": "a", "style": "loud"}
    assert original == {"text": "  hi  ", "upper": False}  # the stored definition is untouched


def test_stamping_leaves_version_1_types_and_odd_input_alone():
    definition = simple_definition({"id": "t", "type": "transform",
                                    "config": {"expression": "1"}})
    assert stamp_versions(definition) == definition
    assert stamp_versions({"nodes": [{"type": ["x"]}, 5]}) == {"nodes": [{"type": ["x"]}, 5]}
    assert stamp_versions("nope") == "nope"
