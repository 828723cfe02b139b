"""The typed node contract: nodes reach the engine only through `NodeContext`'s methods; a
method that needs the run says so clearly when it is not available; node modules take a typed
context and import no engine module."""

import ast
from pathlib import Path

import pytest

import nodes.types
from nodes.base import NodeError, NodeType
from nodes.context import NodeContext
from runs.engine.context import EngineContext

TYPES_DIR = Path(nodes.types.__file__).parent


def ctx(**kwargs) -> EngineContext:
    return EngineContext(node_id="n", node_type="t", names={"input": {"a": 1}}, **kwargs)


@pytest.mark.parametrize("call", [
    lambda c: c.respond(status=200, headers={}, body=None),
    lambda c: c.run_subworkflow(1, {}),
    lambda c: c.resume_token(),
    lambda c: c.resume_url(),
])
def test_run_services_outside_a_run_are_a_clear_node_error(call):
    with pytest.raises(NodeError, match="not available here"):
        call(ctx())


def test_credentials_outside_a_run_are_a_clear_error():
    with pytest.raises(NodeError, match="credentials are not available here"):
        ctx().credential(3)


def test_evaluate_and_run_code_raise_node_errors():
    assert ctx().evaluate("input.a + extra", {"extra": 2}) == 3
    with pytest.raises(NodeError, match="ZeroDivisionError"):
        ctx().evaluate("1 / 0")


@pytest.mark.slow
def test_run_code_goes_through_the_sandbox_worker():
    assert ctx().run_code("result = sum(input)", {"input": [1, 2]}, timeout=10) == 3
    with pytest.raises(NodeError, match="line 1: .*not defined"):
        ctx().run_code("open('/etc/passwd')", {}, timeout=10)


def test_every_protocol_method_is_implemented_by_the_engine():
    wanted = {name for name in vars(NodeContext) if not name.startswith("_")}
    assert wanted <= set(dir(EngineContext(node_id="n", node_type="t", names={})))


@pytest.mark.parametrize("path", sorted(TYPES_DIR.glob("*.py")), ids=lambda p: p.name)
def test_node_modules_take_a_typed_context_and_import_no_engine(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            assert not (module or "").startswith(("runs", "workflows", "accounts")), \
                f"{path.name} imports {module}"
        if isinstance(node, ast.FunctionDef) and node.name == "run":
            annotation = node.args.args[1].annotation
            assert isinstance(annotation, ast.Name), f"{path.name}: run(ctx) must be typed"
            assert annotation.id == "NodeContext", f"{path.name}: ctx must be a NodeContext"


def test_every_flag_the_engine_reads_is_declared_on_node_type():
    for flag in ("inline_only", "suspends", "external_resume", "pure", "multi_input",
                 "is_trigger", "raw_fields", "body_port", "version"):
        assert flag in vars(NodeType), flag
    assert vars(NodeType)["version"] == 1


def test_a_credential_of_another_kind_is_refused_by_name():
    found = {"id": 4, "name": "mail", "kind": "smtp", "data": {"password": "p"}}
    context = ctx(credentials=lambda ref: found)
    assert context.credential(4, kinds=("smtp",)) is found
    with pytest.raises(NodeError, match="'mail' is of kind 'smtp'; this node needs one of: s3"):
        context.credential(4, kinds=("s3",))
