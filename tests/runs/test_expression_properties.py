"""The sandbox against CPython's own `eval`: on generated safe expressions it gives Python's
value, or a clear error when it refuses on purpose (a size bound), never a different value."""

import math
import warnings

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from runs.engine.expressions import ExpressionError, evaluate

ENV = {"items": [3, 1, 2], "d": {"a": 1, "b": 2}, "s": "Ada"}
BUILTINS = {name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(
    __builtins__, name) for name in ("len", "sorted", "min", "max", "sum", "abs", "str", "int",
                                     "list", "tuple", "set", "dict", "bool", "round", "any", "all",
                                     "zip", "enumerate")}
VIEWS = (type({}.keys()), type({}.values()), type({}.items()))
# Refusals that are the sandbox's own bounds, not a difference in meaning.
DELIBERATE = ("too large", "limit", "timed out", "nested")

ints = st.integers(-20, 20).map(str)
floats = st.sampled_from(["0.5", "1.25", "-2.0", "3e2"])
strings = st.sampled_from(["'a'", "'Ada'", "''", "'x y'", "'10'"])
names = st.sampled_from(["items", "d", "s", "True", "False", "None"])
atoms = st.one_of(ints, floats, strings, names)


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(inner, inner)
    return st.one_of(
        st.builds(lambda a, op, b: f"({a} {op} {b})", inner,
                  st.sampled_from(["+", "-", "*", "//", "%", "==", "!=", "<", "<=", "in",
                                   "not in", "and", "or", "|", "&"]), inner),
        st.builds(lambda a, b: f"({a} ** {b})", inner, st.sampled_from(["0", "1", "2", "3"])),
        st.builds(lambda op, a: f"({op}{a})", st.sampled_from(["-", "not ", "+"]), inner),
        st.builds(lambda a, b, c: f"({a} if {b} else {c})", inner, inner, inner),
        st.builds(lambda xs: "[" + ", ".join(xs) + "]", st.lists(inner, max_size=3)),
        st.builds(lambda a, b: f"[*{a}, {b}]", inner, inner),
        st.builds(lambda a, b: f"({b}, *{a})", inner, inner),
        st.builds(lambda a, b: f"{{*{a}, {b}}}", inner, inner),
        st.builds(lambda k, v, m: f"{{**{m}, {k}: {v}}}", strings, inner,
                  st.sampled_from(["d", "{}", "{'b': 5}", "items"])),
        st.builds(lambda k, v: f"{{{k}: {v}}}", inner, inner),
        st.builds(lambda a, i: f"{a}[{i}]", inner, inner),
        st.builds(lambda a, i, j: f"{a}[{i}:{j}]", inner, ints, ints),
        st.builds(lambda f, a: f"{f}({a})",
                  st.sampled_from(["len", "sorted", "min", "max", "sum", "abs", "str", "int",
                                   "list", "set", "bool", "tuple"]), inner),
        st.builds(lambda a, b: f"max({a}, {b})", inner, inner),
        st.builds(lambda a, b: f"round({a}, {b})", inner, st.sampled_from(["0", "1", "2"])),
        st.builds(lambda body, it, cond: f"[{body} for x in {it} if {cond}]",
                  st.sampled_from(["x", "x * 2", "str(x)", "(x, x)", "[x]"]), inner,
                  st.sampled_from(["True", "x", "not x", "x != 1"])),
        st.builds(lambda it: f"{{x: x for x in {it}}}", inner),
        st.builds(lambda it: f"{{x for x in {it}}}", inner),
        st.builds(lambda a, b: f"({a}).get({b})", pair.map(lambda p: "d"), inner),
        st.builds(lambda a: f"f'{{{a}}}|{{{a}!r}}'", inner),
        st.builds(lambda a, b, c: f"({a} < {b} <= {c})", inner, inner, inner),
        st.builds(lambda f, it: f"{f}(x for x in {it})",
                  st.sampled_from(["sum", "any", "all", "list", "tuple", "sorted"]), inner),
        st.builds(lambda a, m: f"({a}).{m}()",
                  inner, st.sampled_from(["upper", "split", "strip", "keys", "values",
                                          "items", "copy", "isdigit"])),
        st.builds(lambda a, b: f"list(zip({a}, {b}))", inner, inner),
        st.builds(lambda a: f"list(enumerate({a}))", inner),
        st.builds(lambda a: f"sorted({a}, reverse=True)", inner),
        st.builds(lambda a, b: f"', '.join([{a}, {b}])", inner, inner),
    )


expressions = st.recursive(atoms, _extend, max_leaves=8)


def _same(a, b) -> bool:
    """Equal values of the same types all the way down (1, 1.0 and True differ here)."""
    if type(a) is not type(b):
        return False
    if type(a) in VIEWS:  # views compare by identity (values) or as sets (keys, items)
        return _same(list(a), list(b))
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return a == b


def _python(source: str):
    warnings.simplefilter("ignore", SyntaxWarning)  # "perhaps you missed a comma?"
    env = {"__builtins__": BUILTINS, **{k: (dict(v) if isinstance(v, dict) else list(v)
                                            if isinstance(v, list) else v)
                                        for k, v in ENV.items()}}
    try:
        return True, eval(source, env)
    except Exception as exc:
        return False, exc


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions)
@example('{**d, "processed": True}')
@example("[*items, 1]")
@example("(0, *s)")
@example("{*items, 4}")
@example("{**{}, 'a': 1}")
def test_sandbox_agrees_with_cpython(source):
    ok, expected = _python(source)
    try:
        got = evaluate(source, ENV, timeout=30)
    except ExpressionError as exc:
        refusal = exc.reason
    else:
        refusal = None
    if refusal is not None:
        deliberate = any(word in refusal for word in DELIBERATE)
        assert deliberate or not ok, (
            f"{source!r}: Python gives {expected!r}, the sandbox refused: {refusal}")
        return
    assert ok, f"{source!r}: Python raises {expected!r}, the sandbox gave {got!r}"
    assert _same(got, expected), f"{source!r}: Python gives {expected!r}, sandbox {got!r}"


@pytest.mark.parametrize(("source", "expected"), [
    ('{**input, "processed": True}', {"a": 1, "processed": True}),
    ('{"processed": False, **input}', {"processed": False, "a": 1}),
    ("{**input, **{'a': 2}}", {"a": 2}),
    ("[*items, 1]", [1, 2, 1]),
    ("[*input, *items]", ["a", 1, 2]),
    ("(*items,)", (1, 2)),
    ("{*items, 3}", {1, 2, 3}),
    ("[*range(3)]", [0, 1, 2]),
    ("[*'ab']", ["a", "b"]),
])
def test_unpacking_means_what_python_means(source, expected):
    assert evaluate(source, {"input": {"a": 1}, "items": [1, 2]}) == expected


@pytest.mark.parametrize(("source", "message"), [
    ("{**items}", "'list' object is not a mapping"),
    ("[*5]", "not iterable"),
])
def test_unpacking_the_wrong_thing_is_a_clear_error(source, message):
    with pytest.raises(ExpressionError, match=message):
        evaluate(source, {"items": [1, 2]})
