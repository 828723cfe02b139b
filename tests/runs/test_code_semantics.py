"""The code node's Python means what CPython means (checked against `exec`), or fails with a
clear error for what the sandbox does not support; never a different value."""

import pytest

from runs.engine.expressions import ExpressionError, execute

SAME_AS_PYTHON = [
    "def outer():\n    x = 1\n    def inner():\n        return x + 1\n    return inner()\n"
    "result = outer()",
    "x = 5\ndef f():\n    x = 1\n    return x\nresult = (f(), x)",
    # asteval gave (1, 2, (3, 4), {...}): extra positionals skipped the defaulted parameter
    "def f(a, b=2, *args, **kw):\n    return (a, b, args, kw)\nresult = f(1, 3, 4, k=5)",
    "def f(a, b=2, *args):\n    return (a, b, args)\nresult = [f(1), f(1, 2, 3), f(b=5, a=0)]",
    "f = lambda a, b=10: a + b\nresult = (f(1), f(1, 2), f(a=1, b=3))",
    "result = []\nfor i in range(5):\n    if i == 3:\n        break\n    result.append(i)\n"
    "else:\n    result.append('else')",
    "a = [1, 2]\nb = a\nb.append(3)\nresult = a",
    # in-place operators change the shared list / set, as in Python
    "a = [1]\nb = a\na += [2]\nresult = (a, b)",
    "s = {1}\nt = s\ns |= {2}\nresult = t",
    "t = (1,)\nu = t\nt += (2,)\nresult = (t, u)",
    "x = 10\nx -= 3\nx *= 2\nresult = x",
    "i = 'keep'\n_ = [i for i in range(3)]\nresult = i",
    "first, *rest = 'abc'\nresult = (first, rest)",
    "*init, last = [1, 2, 3]\nresult = (init, last)",
    "a, *mid, z = range(5)\nresult = (a, mid, z)",
    "(a, b), c = (1, 2), 3\nresult = [a, b, c]",
    "matrix = [[1, 2], [3, 4]]\nmatrix[0][1] += 10\nresult = matrix",
    "result = {**{'a': 1}, **{'b': 2}, 'a': 3}",
    "items = [1, 2]\nresult = [*items, *range(2), 9]",
    "result = sum(x * x for x in range(4))",
    "x = 0\nwhile x < 3:\n    x += 1\nelse:\n    x = 'done'\nresult = x",
]

CLEAR_ERRORS = [
    ("count = 0\ndef inc():\n    global count\n    count += 1\ninc()\nresult = count",
     "Global not supported"),
    ("def f(*, key):\n    return key\nresult = f(key=1)", "keyword-only"),
    ("def f(a, /):\n    return a\nresult = f(1)", "positional-only"),
    ("result = [y async for y in []]", "async code is not supported"),
    ("a, b = [1, 2, 3]", "cannot unpack 3 values into 2 names"),
    ("a, *b, c = [1]", "not enough values to unpack"),
    ("def f(a):\n    return a\nf(1, 2)", "too many positional arguments"),
    ("def f(a):\n    return a\nf()", "missing a required argument: 'a'"),
]


def _python(code: str):
    env: dict = {}
    exec(code, {}, env)
    return env["result"]


@pytest.mark.parametrize("code", SAME_AS_PYTHON)
def test_code_means_what_python_means(code):
    assert execute(code, {}, timeout=10) == _python(code)


@pytest.mark.parametrize(("code", "message"), CLEAR_ERRORS)
def test_unsupported_code_is_a_clear_error(code, message):
    with pytest.raises(ExpressionError, match=message):
        execute(code, {}, timeout=10)
