"""Django's SQLite backend, with its placeholder rewrite and its text for a UTC time made
cheap for the common case.

    DATABASES["default"]["ENGINE"] = "wfaib.db_sqlite"   # wfaib/settings.py sets it

Django writes statements with `%s` placeholders and its SQLite cursor rewrites them into
sqlite3's `?` before every execution, with the regular expression `(?<!%)%s` (a `%s` not
preceded by `%`) and then `%%` into `%`. Python's regex engine tries the look-behind at every
character, so the rewrite costs about 50 us for a 600-character INSERT of a run: a few percent
of a whole webhook request, paid again for every statement (bench/RESULTS.md).

A statement without `%%` has no `%s` preceded by `%`, so the rewrite is exactly
`str.replace("%s", "?")` there (tested against Django's own on generated statements); a
statement with `%%` in it, or with named parameters, takes Django's way.

An aware datetime is stored as text in the connection's time zone: Django's
`str(make_naive(value, connection.timezone))`, with the settings read and the value checked
on the way. For a time already in UTC (`timezone.now()` makes them so) and the connection in
UTC (USE_TZ, no TIME_ZONE of its own), that is `str(value.replace(tzinfo=None))`, since
`astimezone` returns such a value itself: ~9 values of a respond request (tested against
Django's, and with the connection in another zone).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db.backends.sqlite3 import base, operations


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query: str, *, param_names: list[str] | None = None) -> str:
        if param_names is None and "%%" not in query:
            return query.replace("%s", "?")
        return super().convert_query(query, param_names=param_names)


class DatabaseOperations(operations.DatabaseOperations):
    def adapt_datetimefield_value(self, value: Any) -> Any:
        if (type(value) is datetime and value.tzinfo is UTC and settings.USE_TZ
                and self.connection.timezone is UTC):
            return str(value.replace(tzinfo=None))
        return super().adapt_datetimefield_value(value)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def create_cursor(self, name: str | None = None) -> SQLiteCursorWrapper:
        return self.connection.cursor(factory=SQLiteCursorWrapper)
