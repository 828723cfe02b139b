import pytest

from tests.factories import make_workflow, run_now, simple_definition

pytestmark = pytest.mark.django_db


def transform(**config):
    return {"id": "tx", "type": "transform", "config": config}


def test_expression_returns_value():
    run = run_now(make_workflow(definition=simple_definition(
        transform(expression="[x['n'] * 2 for x in input.items if x['n'] > 1]"))),
        input={"items": [{"n": 1}, {"n": 2}, {"n": 3}]})
    assert run.result == [4, 6]


def test_mapping_builds_object():
    run = run_now(make_workflow(definition=simple_definition(
        transform(mapping={"full": "input.first + ' ' + input.last", "len": "len(input.first)"}))),
        input={"first": "Ada", "last": "Lovelace"})
    assert run.result == {"full": "Ada Lovelace", "len": 3}


def test_mapping_over_expression_result():
    run = run_now(make_workflow(definition=simple_definition(
        transform(expression="sorted(input)", mapping={"first": "value[0]", "n": "len(value)"}))),
        input=[3, 1, 2])
    assert run.result == {"first": 1, "n": 3}


def test_bad_expression_fails_node_with_reason():
    run = run_now(make_workflow(definition=simple_definition(
        transform(expression="input.missing + 1"))), input={})
    assert run.status == "failed"
    assert run.error_node_id == "tx"
    assert "no key 'missing'" in run.error
    assert "input.missing + 1" in run.error


def test_sandbox_refuses_file_access():
    run = run_now(make_workflow(definition=simple_definition(
        transform(expression="open('/etc/passwd').read()"))), input={})
    assert run.status == "failed"
    assert "open" in run.error


def test_non_json_values_are_made_json_safe():
    run = run_now(make_workflow(definition=simple_definition(
        transform(expression="set([1])"))), input={})
    assert run.status == "succeeded"
    assert run.result == [1]
