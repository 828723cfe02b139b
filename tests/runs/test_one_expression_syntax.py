"""One expression syntax for users: `{{ }}` in every field, including the fields that hold one
expression (If, Switch cases, Transform, Loop's break_if, retry_if); a bare expression, as saved
workflows hold, still works; a syntax problem is refused when the workflow is saved."""

import pytest

from nodes.config_fields import syntax_problem, unwrap
from runs.engine.expressions import evaluate
from runs.models import Run
from tests.factories import make_workflow, run_now, simple_definition
from workflows.validation import InvalidDefinition, validate_definition

pytestmark = pytest.mark.django_db


def condition(expression):
    return simple_definition(
        {"id": "if", "type": "condition", "config": {"expression": expression}},
        {"id": "yes", "type": "transform", "config": {"expression": "{{ 'yes' }}"}},
        {"id": "no", "type": "transform", "config": {"expression": "'no'"}},
        edges=[{"from": "trigger", "to": "if"}, {"from": "if", "to": "yes", "port": "true"},
               {"from": "if", "to": "no", "port": "false"}])


@pytest.mark.parametrize("expression", ["{{ trigger.x > 5 }}", "trigger.x > 5",
                                        "{{trigger.x > 5}}", "  {{ trigger.x > 5 }}\n"])
def test_if_takes_a_template_or_a_bare_expression(user, expression):
    workflow = make_workflow(owner=user, definition=condition(expression))
    high = run_now(workflow, input={"x": 7})
    assert high.status == Run.Status.SUCCEEDED, high.error
    assert high.result == "yes"
    assert run_now(workflow, input={"x": 1}).result == "no"


def test_switch_transform_loop_and_retry_if_take_templates(user):
    definition = simple_definition(
        {"id": "sw", "type": "switch", "config": {"cases": [
            {"name": "big", "expression": "{{ input.n > 10 }}"},
            {"name": "small", "expression": "input.n <= 10"}]}},
        {"id": "loop", "type": "loop", "config": {"items": "{{ trigger.items }}",
                                                   "break_if": "{{ item >= 2 }}"}},
        {"id": "double", "type": "transform",
         "config": {"mapping": {"v": "{{ item * 2 }}", "i": "index"}},
         "settings": {"max_attempts": 2, "retry_if": "{{ attempt < 1 }}"}},
        edges=[{"from": "trigger", "to": "sw"}, {"from": "sw", "to": "loop", "port": "big"},
               {"from": "loop", "to": "double", "port": "each"}])
    run = run_now(make_workflow(owner=user, definition=definition),
                  input={"n": 11, "items": [1, 2, 3]})
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.result == [{"v": 2, "i": 0}, {"v": 4, "i": 1}]


@pytest.mark.parametrize(("expression", "message"), [
    ("{{ trigger.x > }}", "syntax error"),
    ("{{ trigger.x }} and {{ trigger.y }}", "put one {{ }} around the whole expression"),
    ("{{ }}", "{{ }}: empty expression"),
])
def test_a_broken_if_expression_is_refused_at_save_naming_the_field(user, expression, message):
    errors = {e["path"]: e["message"] for e in validate_definition(condition(expression))}
    assert message in errors["nodes[1].config.expression"], errors
    with pytest.raises(InvalidDefinition):
        make_workflow(owner=user, definition=condition(expression))


def test_templates_in_any_field_and_in_settings_are_checked_at_save():
    definition = simple_definition(
        {"id": "call", "type": "http", "config": {
            "url": "https://example.com/{{ input.id ) }}",
            "query": {"q": "{{ input.q }}", "bad": "x {{ 1 + }} y"}},
         "settings": {"max_attempts": 2, "retry_if": "{{ details.status >= }}"}},
        {"id": "sw", "type": "switch", "config": {"cases": [
            {"name": "a", "expression": "{{ input[ }}"}]}},
        {"id": "t", "type": "transform", "config": {"mapping": {"k": "{{ value + }}"}}},
        edges=[{"from": "trigger", "to": "call"}, {"from": "call", "to": "sw"},
               {"from": "sw", "to": "t", "port": "a"}])
    errors = {e["path"]: e["message"] for e in validate_definition(definition)}
    assert set(errors) == {"nodes[1].config.url", "nodes[1].config.query.bad",
                           "nodes[1].settings.retry_if", "nodes[2].config.cases[0].expression",
                           "nodes[3].config.mapping.k"}, errors
    assert errors["nodes[1].config.query.bad"].startswith("{{ 1 + }}: syntax error")


def test_code_is_not_read_as_templates():
    definition = simple_definition({"id": "c", "type": "code", "config": {
        "code": "d = {'a': {'b': 1}}\nresult = {{1: 2}.get(1): 3} if False else d"}})
    assert validate_definition(definition) == []


def test_unwrap_and_the_set_pitfall():
    assert unwrap("{{ a > 5 }}") == "a > 5"
    assert unwrap("a > 5") == "a > 5"
    assert unwrap("{{ a }} {{ b }}") == "{{ a }} {{ b }}"
    assert evaluate("{{ {'k': 1}['k'] }}", {}) == 1
    assert syntax_problem("{ {1} }") is not None  # a set in a set: never runs
    assert syntax_problem("{1, 2}") is None
    assert syntax_problem("x" * 10_001) == "longer than 10000 characters"
    assert syntax_problem("[" * 200 + "]" * 200) is not None
