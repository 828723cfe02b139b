"""The expression sandbox against known escapes, the published asteval advisories, resource
bombs and random input: only ExpressionError ever comes out, and the process stays healthy."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runs.engine.expressions import ExpressionError, evaluate, render
from tests.security.payloads import BOMBS, ESCAPES

NAMES = {"input": {"name": "ada", "items": [1, 2, 3], "nested": {"k": "v"}},
         "nodes": {"a": {"x": 1}}, "run": {"id": 1}, "trigger": {}, "now": "2025-01-01"}


def healthy() -> None:
    assert evaluate("input.name.upper() + str(sum(input.items))", NAMES) == "ADA6"


@pytest.mark.parametrize("payload", ESCAPES)
def test_escape_payloads_fail_with_the_sandbox_error(payload):
    with pytest.raises(ExpressionError):
        evaluate(payload, NAMES)
    healthy()


@pytest.mark.parametrize("payload", BOMBS)
def test_resource_bombs_fail_with_a_reason(payload):
    with pytest.raises(ExpressionError) as info:
        evaluate(payload, NAMES, timeout=1.0)
    assert info.value.reason
    healthy()


@pytest.mark.parametrize(("payload", "reason"), [
    ("'a' * 10**10", "too large"),
    ("f'{1:>999999999}'", "format width"),
    ("'a'.center(10**10)", "too large"),
    ("2**10**8", "too large"),
    ("1 << 10**10", "too large"),
    ("[x for x in range(10**6) for y in range(10**6)]", "timed out after 0.2s"),
    ("str([['a' * 10**6] * 10**6])", "too large"),
    ("[list(range(10**6)) for i in range(1000)]", "memory limit exceeded"),
    ("'{0.__class__}'.format(1)", "'format' is not allowed"),
    ("().__class__", "'__class__' is not allowed"),
    ("open('/proc/self/environ')", "name 'open' is not defined"),
])
def test_bounds_name_their_reason(payload, reason):
    with pytest.raises(ExpressionError) as info:
        evaluate(payload, NAMES, timeout=0.2 if "timed out" in reason else 60.0)
    assert reason in str(info.value)


def test_asteval_default_open_is_not_reachable():
    """asteval's default symbol table has a read-only open(); ours starts empty."""
    for name in ("open", "print", "getattr", "hasattr", "dir", "eval", "exec", "compile",
                 "__import__", "type", "vars", "globals", "locals", "format", "id"):
        with pytest.raises(ExpressionError, match="not defined"):
            evaluate(f"{name}", NAMES)


def test_advisory_format_string_traversal_through_fstring_spec():
    """GHSA (2025, asteval < 1.0.6): a crafted f-string format spec reached attributes via
    str.format field traversal. Our f-strings use format(value, spec): no field names."""
    for payload in ("f'{1:{\"}}{0.__class__}\"}}'", "f\"{input:{'{0.__class__}'}}\"",
                    "f'{input!s:{\"x\"}}'"):
        with pytest.raises(ExpressionError):
            evaluate(payload, NAMES)


def test_advisory_attribute_error_obj_is_not_reachable():
    """Python 3.10+ AttributeError.obj / NameError.name carry objects; exception values are
    not available in expressions (no try) and attributes of exceptions are refused in code."""
    with pytest.raises(ExpressionError):
        evaluate("AttributeError", NAMES)


def test_advisory_procedure_internals_not_reachable_in_expressions():
    """GHSA (2025): asteval Procedures exposed their AST. Expressions cannot define any."""
    with pytest.raises(ExpressionError, match="not supported"):
        evaluate("(lambda: 0)", NAMES)


def test_data_keys_read_as_attributes_even_when_they_look_dangerous():
    data = {"input": {"__class__": "just data", "format": "also data", "items": [1]}}
    assert evaluate("input.__class__", data) == "just data"
    assert evaluate("input.format", data) == "also data"
    assert evaluate("input.items", data) == [1]
    assert evaluate("[x.name for x in input.rows]", {"input": {"rows": [{"name": "a"}]}}) == ["a"]


def test_useful_things_still_work():
    assert evaluate("sorted(input.items, key=None)", {"input": {"items": [3, 1]}}) == [1, 3]
    assert evaluate("', '.join(map(str, input.items))", NAMES) == "1, 2, 3"
    assert evaluate("f'{input.name:>5}|{3.14159:.2f}|{input.items!r}'", NAMES) == \
        "  ada|3.14|[1, 2, 3]"
    assert evaluate("'%s-%05d' % (input.name, 42)", NAMES) == "ada-00042"
    assert evaluate("input.name.ljust(6, '.')", NAMES) == "ada..."
    assert evaluate("json_loads(json_dumps(input.nested))", NAMES) == {"k": "v"}
    assert evaluate("{k: v for k, v in input.nested.items()}", NAMES) == {"k": "v"}
    assert evaluate("list(filter(None, [0, 1, 2]))", NAMES) == [1, 2]
    assert evaluate("max(input.items) + len(input.name)", NAMES) == 6


def test_expressions_cannot_change_the_callers_data():
    data = {"input": {"a": 1}}
    evaluate("input.update({'a': 2})", data)
    assert data == {"input": {"a": 1}}


def test_render_bounds_the_total_size():
    data = {"input": {"big": "x" * 5_000_000}}
    with pytest.raises(ExpressionError, match="too large"):
        render("{{ input.big }}" * 8, data)


def test_the_sandbox_error_is_bounded_even_for_huge_values():
    with pytest.raises(ExpressionError) as info:
        evaluate("{}[('a' * 10**6,) * 10**6]", NAMES)
    assert len(str(info.value)) < 2000


# --- property-based fuzzing ---------------------------------------------------------------

ATOMS = ["input", "input.name", "input.items", "input.nested", "nodes", "run", "trigger",
         "now", "0", "1", "-1", "2", "10", "10**6", "10**10", "0.5", "'a'", "''", "'%s'",
         "'{}'", "'{0.__class__}'", "[]", "[0]", "{}", "()", "None", "True", "len", "str",
         "range", "map", "sorted", "sum", "json_dumps", "json_loads", "x", "__class__",
         "'\\t'", "b'a'"]
BINOPS = ["+", "-", "*", "/", "//", "%", "**", "<<", ">>", "&", "|", "^", "==", "<", "in",
          "and", "or", "if 1 else"]
ATTRS = ["__class__", "__dict__", "__globals__", "mro", "format", "format_map", "upper",
         "join", "ljust", "center", "zfill", "replace", "split", "items", "keys", "get",
         "to_bytes", "gi_frame", "f_back", "name", "extend", "append", "__reduce__"]


def expressions():
    atom = st.sampled_from(ATOMS)

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(BINOPS), inner)
            .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(inner, st.sampled_from(ATTRS)).map(lambda t: f"{t[0]}.{t[1]}"),
            st.tuples(inner, st.lists(inner, max_size=3)).map(
                lambda t: f"{t[0]}({', '.join(t[1])})"),
            st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
            st.lists(inner, max_size=3).map(lambda xs: f"[{', '.join(xs)}]"),
            st.tuples(inner, inner).map(lambda t: f"f'{{{t[0]}:>{{{t[1]}}}}}'"),
            st.tuples(inner, inner).map(lambda t: f"[{t[0]} for x in {t[1]}]"),
            inner.map(lambda e: f"not {e}"),
        )

    return st.recursive(atom, extend, max_leaves=8) | st.text(max_size=40)


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(expressions())
def test_random_expressions_raise_only_expression_error(expression):
    try:
        evaluate(expression, NAMES, timeout=0.5)
    except ExpressionError:
        pass


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60))
def test_random_templates_raise_only_expression_error(text):
    try:
        render("{{ " + text + " }} and {{ input.name }}", NAMES, timeout=0.5)
    except ExpressionError:
        pass


def test_process_is_healthy_after_the_corpus():
    for payload in ESCAPES + BOMBS[:10]:
        with pytest.raises(ExpressionError):
            evaluate(payload, NAMES, timeout=0.5)
    healthy()
