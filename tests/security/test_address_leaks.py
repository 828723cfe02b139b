"""Issue #17.6: the expression sandbox never hands out a host object's description (a heap
address, the sandbox's internal names), however the value is turned into text: str, repr,
f-strings, format specs, `%`, JSON, templates, node outputs, error messages."""

import re

import pytest

from runs.engine.expressions import ExpressionError, evaluate, execute, render
from runs.models import Run
from tests.factories import make_workflow, run_now, simple_definition

NAMES = {"input": {"name": "ada", "items": [1, 2]}, "nodes": {}, "trigger": {}}
ADDRESS = re.compile(r"0x[0-9a-fA-F]{4,}")
INTERNAL = re.compile(r"<locals>|_keyed|keyed|Procedure|Sandbox|runs\.engine|asteval|"
                      r"expressions|call_bound|_map|_filter")

LEAKS = [
    "str(input.get)", "str(sorted)", "str(len)", "str(map)", "str(json_dumps)",
    "str([sorted, input.get])", "str({'f': input.items})", "str((min,))",
    "repr(sorted)", "repr(input.get)", "repr([max])",
    "f'{sorted}'", "f'{input.get}'", "f'{sorted!r}'", "f'{sorted!s}'", "f'{sorted!a}'",
    "f'{[sorted]}'", "f'{input.keys}'",
    "'%s' % sorted", "'%r' % sorted", "'%s' % (input.get,)", "'%s' % [sorted]",
    "'%(f)s' % {'f': sorted}", "'%a' % (sorted,)",
    "json_dumps({'f': sorted, 'g': input.get})", "json_dumps([map(len, [])])",
    "str(map(len, []))", "str(filter(None, []))", "str(reversed([1]))", "str(zip())",
    "str(enumerate([]))", "str(iter([1]) if False else reversed('ab'))",
    "str(x for x in [1])", "str('a'.upper)", "str(str.upper)", "str(''.join)",
    "str(input.name.ljust)", "str([1].extend)", "str({}.update)", "str(dict.fromkeys)",
    "str(input.items.sort)",
]
ERRORS = [
    "{}[sorted]", "{}[input.get]", "len(sorted)", "input.get + 1", "int(sorted)",
    "sorted + sorted", "[].index(sorted)", "sorted.__name__", "input.get.x", "sorted[0]",
    "{sorted: 1}[max]", "'%d' % sorted", "'%d' % (input.get,)", "f'{sorted:>10}'",
    "sorted()", "list(map(1, [1]))",
]


def _assert_plain(text: str) -> None:
    assert not ADDRESS.search(text), text
    assert not INTERNAL.search(text), text


@pytest.mark.parametrize("expression", LEAKS)
def test_values_turned_into_text_have_no_address(expression):
    text = evaluate(expression, NAMES)
    assert isinstance(text, str)
    _assert_plain(text)


def test_plain_text_names_the_function_or_method():
    assert evaluate("str(sorted)", NAMES) == "<function sorted>"
    assert evaluate("str(input.get)", NAMES) == "<method get>"
    assert evaluate("f'{[len, input.keys]}'", NAMES) == "[<function len>, <method keys>]"
    assert evaluate("str(reversed([1]))", NAMES) == "<list_reverseiterator object>"
    # plain data reads exactly as Python shows it, "<" and all
    assert evaluate("str(['<a>', {'k': (1,)}])", NAMES) == "['<a>', {'k': (1,)}]"
    assert evaluate("'%s|%r' % ([1, '<'], {'a': 1})", NAMES) == "[1, '<']|{'a': 1}"


@pytest.mark.parametrize("expression", ERRORS)
def test_error_messages_have_no_address(expression):
    with pytest.raises(ExpressionError) as info:
        evaluate(expression, NAMES)
    _assert_plain(info.value.reason)


@pytest.mark.parametrize("template", [
    "x {{ input.get }}", "{{ sorted }} and {{ input.get }}", "{{ {'f': sorted} }}!",
    "x{{ [input.keys] }} ", "a{{ map(len, []) }}",
])
def test_template_text_has_no_address(template):
    _assert_plain(render(template, NAMES))


@pytest.mark.parametrize("code", [
    "def f(x):\n    return x\nresult = str(f)",
    "result = repr(lambda: 1)",
    "def f():\n    pass\nresult = f'{f} {[f]} %s' % (f,)",
    "result = json_dumps({'f': lambda: 1})",
])
def test_code_values_have_no_address(code):
    text = execute(code, NAMES, timeout=5)
    _assert_plain(text)
    assert "function" in text


@pytest.mark.parametrize("code", [
    "def f():\n    pass\nlen(f)", "f = lambda: 1\nf + 1", "def f():\n    pass\n{}[f]",
    "try:\n    {}[sorted]\nexcept KeyError as e:\n    raise ValueError(str(e))",
])
def test_code_errors_have_no_address(code):
    with pytest.raises(ExpressionError) as info:
        execute(code, NAMES, timeout=5)
    _assert_plain(str(info.value.reason))


@pytest.mark.django_db
def test_node_outputs_and_errors_in_a_run_have_no_address():
    definition = simple_definition(
        {"id": "fn", "type": "transform", "config": {"expression": "input.get"}},
        {"id": "many", "type": "transform",
         "config": {"mapping": {"f": "sorted", "text": "'<' + str(max) + '>'",
                                "list": "[len, nodes.fn]"}}},
        {"id": "bad", "type": "transform", "config": {"expression": "{}[sorted]"}},
    )
    run = run_now(make_workflow(definition=definition), input={"a": 1})
    assert run.status == Run.Status.FAILED
    for log in run.logs.all():
        _assert_plain(repr(log.output))
        _assert_plain(log.error or "")
    _assert_plain(run.error)
    assert run.logs.get(node_id="fn").output == "<method get>"
    assert run.logs.get(node_id="many").output["f"] == "<function sorted>"
