"""wfaib.url_paths.numbered_path: reverse() reversed once per URL name, URLconf and script
prefix, answering as reverse() does."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, clear_script_prefix, reverse, set_script_prefix, set_urlconf
from django.urls import path as url

from wfaib.url_paths import numbered_path


def _view(request, **kwargs):  # pragma: no cover: never called, only reversed
    raise AssertionError


# A URLconf of this module's own: the same name at another path, and a path whose own text
# holds the marker number, which therefore cannot stand in for the argument.
urlpatterns = [
    url("elsewhere/runs/<int:pk>/detail", _view, name="run-detail"),
    url("v/918273645546372819/<int:pk>", _view, name="marked"),
]


@pytest.mark.parametrize("number", [0, 7, 123456789012])
def test_it_answers_as_reverse_does(number):
    assert numbered_path("run-detail", "pk", number) == reverse(
        "run-detail", kwargs={"pk": number})
    assert numbered_path("run-detail", "pk", number) == f"/api/runs/{number}"


@pytest.mark.parametrize("value", [-1, "12", 1.5, True, None])
def test_what_is_not_a_whole_number_goes_to_reverse(value):
    try:
        expected = reverse("run-detail", kwargs={"pk": value})
    except NoReverseMatch:
        with pytest.raises(NoReverseMatch):
            numbered_path("run-detail", "pk", value)
    else:
        assert numbered_path("run-detail", "pk", value) == expected


def test_an_unknown_name_raises_as_reverse_does():
    with pytest.raises(NoReverseMatch):
        numbered_path("no-such-url", "pk", 1)


def test_each_script_prefix_has_its_own_path():
    assert numbered_path("run-detail", "pk", 5) == "/api/runs/5"
    set_script_prefix("/wfaib/")
    try:
        assert numbered_path("run-detail", "pk", 5) == "/wfaib/api/runs/5"
    finally:
        clear_script_prefix()
    assert numbered_path("run-detail", "pk", 6) == "/api/runs/6"


def test_a_request_urlconf_and_a_changed_root_urlconf_have_their_own_paths(settings):
    assert numbered_path("run-detail", "pk", 3) == "/api/runs/3"
    set_urlconf(__name__)  # what a request's own urlconf does for its thread
    try:
        assert numbered_path("run-detail", "pk", 3) == "/elsewhere/runs/3/detail"
    finally:
        set_urlconf(None)
    assert numbered_path("run-detail", "pk", 3) == "/api/runs/3"
    settings.ROOT_URLCONF = __name__
    assert numbered_path("run-detail", "pk", 4) == "/elsewhere/runs/4/detail"


def test_a_path_the_marker_cannot_stand_in_for_goes_to_reverse():
    set_urlconf(__name__)
    try:
        for number in (1, 22):
            assert numbered_path("marked", "pk", number) == f"/v/918273645546372819/{number}"
    finally:
        set_urlconf(None)
