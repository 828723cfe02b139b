"""reverse() for the URLs a hot path builds by the thousand: a run's API URL in every accepted
webhook's answer and every run of a list.

    path = numbered_path("run-detail", "pk", run.pk)   # == reverse("run-detail", kwargs=...)

Django's reverse() costs ~40 us a call here (it fills in every candidate pattern of the name
and checks the result against the pattern's regex). For a URL whose only argument is a whole
number, the path is the same every time but for the number: it is reversed once per URL name,
URLconf and script prefix with a marker number, and then filled in. The paths are dropped with
Django's own URL caches when ROOT_URLCONF changes; anything else (a negative number, a value
that is not an int, a pattern that takes the marker in another form) goes to reverse() itself,
which answers or raises as it always does.
"""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse

_MARKER = 918_273_645_546_372_819
_paths: dict[tuple[str, str, Any, str], tuple[str, str] | None] = {}


def numbered_path(name: str, kwarg: str, number: int) -> str:
    """reverse(name, kwargs={kwarg: number}), without reversing again for each number."""
    if type(number) is not int or number < 0:
        return reverse(name, kwargs={kwarg: number})
    key = (name, kwarg, get_urlconf(), get_script_prefix())
    try:
        parts = _paths[key]
    except KeyError:
        parts = _paths[key] = _split(name, kwarg)
    if parts is None:
        return reverse(name, kwargs={kwarg: number})
    return f"{parts[0]}{number}{parts[1]}"


def _split(name: str, kwarg: str) -> tuple[str, str] | None:
    """The path around its number, or None where the marker does not appear in it exactly
    once as it was given."""
    path = reverse(name, kwargs={kwarg: _MARKER})
    before, found, after = path.partition(str(_MARKER))
    if not found or str(_MARKER) in after:
        return None
    return before, after


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":
        _paths.clear()
