"""User-defined functions (the code node's `def` and `lambda`): calls bind their arguments
as Python does.

    positional, keywords = bind_arguments(procedure, args, kwargs)
"""

from __future__ import annotations

import inspect
from typing import Any

from .asteval_import import Procedure

_PARAM = inspect.Parameter


def bind_arguments(func: Procedure, args: Any, kwargs: dict[str, Any]
                   ) -> tuple[list[Any], dict[str, Any]]:
    """Arguments for a user-defined function bound as Python binds them, then laid out the
    way asteval's Procedure reads them (asteval hands extra positionals to `*args` before
    filling parameters that have defaults: `f(1, 3, 4)` of `def f(a, b=2, *args)`)."""
    names = list(func.__argnames__)
    defaults = list(func.__kwargs__)
    params = [_PARAM(n, _PARAM.POSITIONAL_OR_KEYWORD) for n in names]
    params += [_PARAM(k, _PARAM.POSITIONAL_OR_KEYWORD, default=v) for k, v in defaults]
    if func.__vararg__ is not None:
        params.append(_PARAM(func.__vararg__, _PARAM.VAR_POSITIONAL))
    if func.__varkws__ is not None:
        params.append(_PARAM(func.__varkws__, _PARAM.VAR_KEYWORD))
    try:
        bound = inspect.Signature(params).bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(str(exc)) from None
    bound.apply_defaults()
    values = bound.arguments
    positional = [values[n] for n in names]
    positional += list(values.get(func.__vararg__, ())) if func.__vararg__ else []
    keywords = {k: values[k] for k, _ in defaults}
    if func.__varkws__ is not None:
        keywords.update(values.get(func.__varkws__, {}))
    return positional, keywords
