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


def test_read_only_dict_is_not_copied_and_not_mutable():
    from runs.engine.expressions import ReadOnlyDict

    nodes = ReadOnlyDict(a={"x": 1}, b=2)
    assert evaluate("nodes.a.x + nodes.b", {"nodes": nodes}) == 3
    assert evaluate("sorted(nodes.keys())", {"nodes": nodes}) == ["a", "b"]
    assert evaluate("nodes.get('b')", {"nodes": nodes}) == 2
    for mutate in ("nodes.update({'c': 1})", "nodes.pop('a')", "nodes.clear()"):
        with pytest.raises(ExpressionError):
            evaluate(mutate, {"nodes": nodes})
    assert nodes == {"a": {"x": 1}, "b": 2}
