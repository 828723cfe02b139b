"""Django's SQLite backend, with its placeholder rewrite made cheap for the common case.

    DATABASES["default"]["ENGINE"] = "wfaib.db_sqlite"   # wfaib/settings.py sets it

Django writes statements with `%s` placeholders and its SQLite cursor rewrites them into
sqlite3's `?` before every execution, with the regular expression `(?<!%)%s` (a `%s` not
preceded by `%`) and then `%%` into `%`. Python's regex engine tries the look-behind at every
character, so the rewrite costs about 50 us for a 600-character INSERT of a run: a few percent
of a whole webhook request, paid again for every statement (bench/RESULTS.md).

A statement without `%%` has no `%s` preceded by `%`, so the rewrite is exactly
`str.replace("%s", "?")` there (tested against Django's own on generated statements); a
statement with `%%` in it, or with named parameters, takes Django's way.
"""

from __future__ import annotations

from django.db.backends.sqlite3 import base


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query: str, *, param_names: list[str] | None = None) -> str:
        if param_names is None and "%%" not in query:
            return query.replace("%s", "?")
        return super().convert_query(query, param_names=param_names)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name: str | None = None) -> SQLiteCursorWrapper:
        return self.connection.cursor(factory=SQLiteCursorWrapper)
