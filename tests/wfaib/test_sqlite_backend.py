"""The SQLite backend (wfaib/db_sqlite/base.py): its placeholder rewrite and its text for a
time are Django's, by the cheap path where it applies, and the settings use it."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections
from django.db.backends.sqlite3 import base as stock
from django.db.backends.sqlite3 import operations
from hypothesis import given
from hypothesis import strategies as st

from wfaib.db_sqlite import base

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's backend")


_DRIVER = sqlite3.connect(":memory:", check_same_thread=False)
_STOCK = _DRIVER.cursor(factory=stock.SQLiteCursorWrapper)
_OURS = _DRIVER.cursor(factory=base.SQLiteCursorWrapper)


def _django(query: str, param_names: list[str] | None = None) -> str:
    return _STOCK.convert_query(query, param_names=param_names)


def _ours(query: str, param_names: list[str] | None = None) -> str:
    return _OURS.convert_query(query, param_names=param_names)


@given(st.text(alphabet="%s?'ab ", max_size=40))
def test_the_rewrite_is_djangos_for_any_text(query):
    assert _ours(query) == _django(query)


@pytest.mark.parametrize("query", [
    "SELECT %s", "INSERT INTO t (a, b) VALUES (%s, %s), (%s, %s) RETURNING id",
    "SELECT 'x%%s' LIKE %s", "SELECT %%%s", "SELECT %s%%", "%s%s%s", "%", "%%", "s%", "",
])
def test_the_rewrite_is_djangos_for_statements_and_corners(query):
    assert _ours(query) == _django(query)


def test_named_parameters_are_rewritten_as_django_does():
    query = "SELECT %(a)s, %(b)s"
    assert _ours(query, ["a", "b"]) == _django(query, ["a", "b"]) == "SELECT :a, :b"


def test_the_settings_use_this_backend(db):
    assert isinstance(connections["default"], base.DatabaseWrapper)
    with connection.cursor() as cursor:
        assert isinstance(cursor.cursor, base.SQLiteCursorWrapper)
        cursor.execute("SELECT %s || 'a%%b', %s", ["x", 2])  # a literal % beside placeholders
        assert cursor.fetchone() == ("xa%b", 2)
        cursor.execute("SELECT %s + %s", [1, 2])  # the cheap path
        assert cursor.fetchone() == (3,)


_IN_UTC = datetime(2026, 12, 2, 1, 2, 3, 456789, tzinfo=UTC)


@pytest.mark.parametrize("value", [
    _IN_UTC, _IN_UTC.replace(microsecond=0), datetime(2026, 7, 1, 12, 0, tzinfo=ZoneInfo(
        "Europe/Berlin")), datetime(2026, 7, 1, 12, 0, tzinfo=timezone(timedelta(hours=-3))),
    _IN_UTC.replace(tzinfo=None), None,  # naive: Django's way
])
def test_the_text_of_a_time_is_djangos(db, value):
    stock_ops = operations.DatabaseOperations(connection)
    assert connection.ops.adapt_datetimefield_value(value) == \
        stock_ops.adapt_datetimefield_value(value)


def test_a_utc_time_takes_the_shortcut_only_while_the_connection_is_in_utc(db, monkeypatch):
    assert type(connection.ops) is base.DatabaseOperations
    assert connection.ops.adapt_datetimefield_value(_IN_UTC) == "2026-12-02 01:02:03.456789"
    wrapper = connections[connection.alias]  # not the proxy: its cached time zone
    monkeypatch.setitem(wrapper.settings_dict, "TIME_ZONE", "Europe/Berlin")
    wrapper.__dict__.pop("timezone", None)  # Django's cached_property, read again
    try:
        assert connection.ops.adapt_datetimefield_value(_IN_UTC) == \
            "2026-12-02 02:02:03.456789"  # converted, as Django does
    finally:
        wrapper.__dict__.pop("timezone", None)
