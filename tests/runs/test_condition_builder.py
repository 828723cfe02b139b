"""The editor's condition builder writes ordinary expressions (frontend/src/lib/condition.ts):
the cases it is tested with there are run here by real If nodes, so a value with quotes, `}}`,
`{{` and backslashes is compared literally; and `matches()`, its regex operator, is bounded."""

import json
from pathlib import Path

import pytest

from runs.engine.expressions import ExpressionError, evaluate
from runs.models import Run
from tests.factories import make_workflow, run_now, simple_definition

CASES = json.loads((Path(__file__).resolve().parents[2] / "frontend" / "src" / "lib"
                    / "condition.cases.json").read_text())["cases"]


def condition(expression):
    return simple_definition(
        {"id": "if", "type": "condition", "config": {"expression": expression}},
        {"id": "yes", "type": "transform", "config": {"expression": "{{ 'yes' }}"}},
        {"id": "no", "type": "transform", "config": {"expression": "{{ 'no' }}"}},
        edges=[{"from": "trigger", "to": "if"}, {"from": "if", "to": "yes", "port": "true"},
               {"from": "if", "to": "no", "port": "false"}])


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=[c["expression"][:40] for c in CASES])
def test_the_builders_expressions_take_the_right_branch(user, case):
    workflow = make_workflow(owner=user, definition=condition(case["expression"]))
    for branch in ("true", "false"):
        run = run_now(workflow, input=case[branch])
        assert run.status == Run.Status.SUCCEEDED, run.error
        assert run.result == ("yes" if branch == "true" else "no"), case[branch]


def test_matches_searches_with_a_regex():
    names = {"input": {"code": "AB12", "text": "line one\nline two"}}
    assert evaluate('matches("^[A-Z]{2}\\\\d+$", input.code)', names) is True
    assert evaluate('matches("^two", input.text)', names) is False
    assert evaluate('matches("(?m)^line two$", input.text)', names) is True


@pytest.mark.parametrize(("expr", "reason"), [
    ('matches("(", "x")', "bad pattern"),
    ('matches(1, "x")', "takes two strings"),
    ('matches("x", None)', "takes two strings"),
    ('matches("a" * 1001, "a")', "over 1,000 characters"),
    # catastrophic backtracking stops at the timeout instead of holding the worker
    ('matches("(a+)+$", "a" * 40000 + "!")', "took too long"),
])
def test_matches_refuses_abuse_with_a_reason(expr, reason):
    with pytest.raises(ExpressionError) as info:
        evaluate(expr, {}, timeout=1.0)
    assert reason in str(info.value)
