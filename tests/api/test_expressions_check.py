"""POST /api/expressions/check: the editor checks an expression while the user types."""

import pytest

pytestmark = pytest.mark.django_db

URL = "/api/expressions/check"


def test_an_if_expression_in_braces_evaluates_to_its_value(api):
    answer = api.post(URL, {"expression": "{{ trigger.x > 5 }}", "kind": "expression",
                            "names": {"trigger": {"x": 7}}}, format="json")
    assert answer.status_code == 200
    assert answer.json() == {"ok": True, "kind": "expression", "error": None, "value": True,
                             "type": "bool", "truncated": False}


def test_a_template_renders_text_or_keeps_a_whole_value(api):
    text = api.post(URL, {"expression": "Hi {{ input.name }}, {{ input.n + 1 }}",
                          "names": {"input": {"name": "Ada", "n": 1}}}, format="json").json()
    assert (text["ok"], text["value"], text["type"]) == (True, "Hi Ada, 2", "string")
    whole = api.post(URL, {"expression": "{{ input.items }}",
                           "names": {"input": {"items": [1, 2]}}}, format="json").json()
    assert (whole["value"], whole["type"]) == ([1, 2], "list")


@pytest.mark.parametrize(("body", "error"), [
    ({"expression": "{{ input. }}"}, "syntax error"),
    ({"expression": "{{ a }} or {{ b }}", "kind": "expression"}, "around the whole"),
    ({"expression": "{{ inpt.x }}"}, "inpt"),
    ({"expression": "{{ input.missing.deeper }}", "names": {"input": {}}}, "missing"),
    ({"expression": "{{ 'x' * 10**9 }}"}, "too large"),
    ({"expression": "{{ ().__class__ }}"}, "__class__"),
])
def test_problems_answer_ok_false_with_the_reason(api, body, error):
    answer = api.post(URL, body, format="json")
    assert answer.status_code == 200
    result = answer.json()
    assert result["ok"] is False
    assert result["value"] is None
    assert error in result["error"], result


def test_a_big_value_is_cut_in_the_preview(api):
    result = api.post(URL, {"expression": "{{ list(range(5000)) }}"}, format="json").json()
    assert result["ok"]
    assert result["truncated"]
    assert len(result["value"]) == 2000


@pytest.mark.parametrize(("body", "field"), [
    ({}, "expression"),
    ({"expression": 5}, None),
    ({"expression": "x" * 10_001}, "expression"),
    ({"expression": "{{ 1 }}", "kind": "python"}, "kind"),
    ({"expression": "{{ 1 }}", "names": [1]}, "names"),
    ({"expression": "{{ 1 }}", "names": {"__builtins__": {}}}, "names"),
    ({"expression": "{{ 1 }}", "names": {"input": "y" * 1_000_001}}, "names"),
])
def test_bad_bodies_are_400_naming_the_field(api, body, field):
    answer = api.post(URL, body, format="json")
    if field is None:  # a number is read as its text: still a valid check
        assert answer.status_code == 200
        return
    assert answer.status_code == 400, answer.content
    assert field in str(answer.json())


def test_signed_out_is_refused(anon):
    assert anon.post(URL, {"expression": "{{ 1 }}"}, format="json").status_code in (401, 403)


@pytest.mark.django_db
def test_a_run_s_data_feeds_the_preview(api, other_api, user):
    from tests.factories import make_workflow, run_now, simple_definition

    workflow = make_workflow(owner=user, definition=simple_definition(
        {"id": "double", "type": "transform", "config": {"expression": "{{ input.n * 2 }}"}},
        {"id": "after", "type": "transform", "config": {"expression": "{{ input }}"}}))
    run = run_now(workflow, input={"n": 21})
    body = {"expression": "{{ nodes.double + trigger.n + input }}", "run": run.pk,
            "node": "after"}
    result = api.post(URL, body, format="json").json()
    assert result["value"] == 42 + 21 + 42, result
    assert other_api.post(URL, body, format="json").status_code == 404
