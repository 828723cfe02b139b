import pytest

from runs.engine.expressions import ExpressionError, evaluate, render, render_value


def test_attribute_access_on_dicts():
    assert evaluate("input.user.name", {"input": {"user": {"name": "ada"}}}) == "ada"


def test_render_string_and_whole_value():
    names = {"input": {"n": 2, "tags": ["a"]}}
    assert render("n={{ input.n }} tags={{ input.tags }}", names) == 'n=2 tags=["a"]'
    assert render("{{ input.tags }}", names) == ["a"]
    assert render("no template", names) == "no template"
    assert render_value({"a": ["{{ input.n * 2 }}"]}, names) == {"a": [4]}


@pytest.mark.parametrize(("expr", "reason"), [
    ("1/0", "division by zero"),
    ("x +", "syntax error"),
    ("undefined_name", "undefined_name"),
    ("open('/etc/passwd')", "open"),
    ("().__class__", "__class__"),
    ("import os", "import"),
    ("[0] * 10**10", "too large"),
    ("'a' * 10**10", "too large"),
    ("range(10**9)", "exceeds the limit"),
])
def test_bad_expressions_raise_expression_error_with_reason(expr, reason):
    with pytest.raises(ExpressionError) as info:
        evaluate(expr, {})
    assert reason in str(info.value)
    assert expr.strip()[:20] in str(info.value)


def test_timeout_bounds_long_evaluation():
    with pytest.raises(ExpressionError, match="timed out"):
        evaluate("[sum(range(1000)) for i in range(1000000)]", {}, timeout=0.2)


def test_interpreter_is_reused_without_leaking_names():
    evaluate("x", {"x": 1})
    with pytest.raises(ExpressionError):
        evaluate("x", {})
