"""The suite's own rules (tests/conftest.py): a test marked `own_database` runs in the SQLite
suite and is skipped in the PostgreSQL one, where it would only repeat the same work."""

import pytest

from tests import conftest


class Item:
    def __init__(self, marked: bool):
        self.marked, self.added = marked, []

    def get_closest_marker(self, name):
        return object() if self.marked and name == "own_database" else None

    def add_marker(self, marker):
        self.added.append(marker)


@pytest.mark.parametrize(("engine", "skipped"), [("wfaib.db_sqlite", False),
                                                 ("wfaib.db_postgresql", True)])
def test_own_database_tests_run_once_in_the_sqlite_suite(engine, skipped):
    marked, plain = Item(True), Item(False)
    conftest.skip_own_database([marked, plain], engine=engine)
    assert plain.added == []
    assert [m.mark.name for m in marked.added] == (["skip"] if skipped else [])
