"""New rows written as SQL once, for the hot paths: the rows a run writes at its end (its node
logs, a deferred run's own row, a batch of accepted runs), without Django's query compiler.

    LOGS = PreparedInsert(RunLog)
    LOGS.insert(logs)                  # each log gets its id, as with bulk_create()
    write = LOGS.prepared(logs)        # the parameters now ...
    write()                            # ... the statement later (the group writer's lock)
    RUN_AND_LOGS = PreparedInsertWithChildren(PreparedInsert(Run), LOGS, link="run")
    RUN_AND_LOGS.insert([(run, logs), ...])  # PostgreSQL: one statement for both

Reads and updates: runs/prepared.py.
"""

from __future__ import annotations

import functools
import itertools
import time
import weakref
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import Model

from .prepared_values import value_getter, value_preparer

# How one field's value is read from a row and prepared (runs/prepared_values.py).
type _FieldValue = tuple[Callable[[Any], Any], Callable[[Any], Any]]


class PreparedInsert[M: Model]:
    """Many new rows of one model in one INSERT written as text, without Django's query
    compiler, for the rows a run writes at its end (its node logs, a deferred run's own row).

        LOGS = PreparedInsert(RunLog)
        LOGS.insert(logs)        # each log gets its id, as with bulk_create()

    What QuerySet.bulk_create() does for new rows without signals, conflicts or generated
    fields, without compiling the statement anew each time: every concrete field but the
    automatic key, each value through the field's `pre_save(add=True)` and `get_db_prep_save`
    (their common cases made cheaper in runs/prepared_values.py),
    the keys read back with RETURNING where the database can (PostgreSQL, SQLite), in batches
    the size the backend allows (`bulk_batch_size`).
    """

    def __init__(self, model: type[M], *, using: str = "default"):
        self.model = model
        self.using = using
        opts = model._meta
        assert opts.pk is not None
        self.pk = opts.pk
        self.fields = [field for field in opts.concrete_fields
                       if field is not opts.pk and not getattr(field, "generated", False)]
        if len(self.fields) + 1 != len(opts.concrete_fields):
            raise ValueError(f"{model.__name__}: only an automatic key may be left out")
        if any(field.has_db_default() for field in self.fields):
            raise ValueError(f"{model.__name__}: a database default needs Django's own insert")
        self._statements: dict[str, tuple[str, str, str]] = {}  # by database vendor
        self._numbered_statements: dict[int, str] = {}  # PostgreSQL's, by number of rows
        self._preparers: weakref.WeakKeyDictionary[Any, list[_FieldValue]] = (
            weakref.WeakKeyDictionary())

    def insert(self, objs: list[M], *, related: list[Any] | None = None) -> None:
        """Insert `objs`; their relations are checked as bulk_create() checks them, all of
        them or only the fields in `related` (the caller has set the others to stored rows)."""
        self.prepared(objs, related=related)()

    def prepared(self, objs: list[M], *, related: list[Any] | None = None,
                 late: Any = None) -> Callable[[], None]:
        """insert(objs) in two steps: the statements and their parameters now (the relations
        checked), run when the result is called, on this thread's connection. The group
        writer prepares a batch so before it takes the writers' lock, which it then holds
        for the database's work only. `late`: a field whose value is read when the
        statement runs (a key the rows get from a statement run just before, their run's)."""
        if not objs:
            return _nothing
        connection = connections[self.using]
        head, row, tail = self._statement(connection)
        values = self._values(connection)
        late_at = -1 if late is None else self.fields.index(late)
        width = len(self.fields)
        size = self._batch_size(connection, objs)
        numbered = connection.vendor == "postgresql"
        statements: list[tuple[list[M], str, list[Any]]] = []
        for start in range(0, len(objs), size):
            batch = objs[start:start + size]
            params: list[Any] = []
            for obj in batch:
                params += self.row_params(obj, values, related)
            sql = (self._numbered(connection, len(batch)) if numbered
                   else head + ", ".join([row] * len(batch)) + tail)
            statements.append((batch, sql, params))

        def run() -> None:
            for batch, sql, params in statements:
                if late_at >= 0:
                    get, prepare = values[late_at]
                    for n, obj in enumerate(batch):
                        params[n * width + late_at] = prepare(get(obj))
                if numbered:
                    keys = [key for (key,) in raw_execute(connection, sql, params)]
                else:
                    with connection.cursor() as cursor:
                        cursor.execute(sql, params)
                        keys = [key for (key,) in cursor.fetchall()] if tail else []
                for obj, key in zip(batch, keys or [None] * len(batch), strict=True):
                    if key is not None:
                        setattr(obj, self.pk.attname, key)
                    obj._state.adding, obj._state.db = False, self.using
        return run

    def in_one_statement(self, objs: list[M]) -> bool:
        """Whether insert(objs) is one statement (so all or nothing outside a transaction)."""
        return self._batch_size(connections[self.using], objs) >= len(objs)

    def _batch_size(self, connection: Any, objs: list[M]) -> int:
        """Rows per statement. One row is one statement whatever the backend's limit (asking
        costs a call to the driver on SQLite); many rows are split as bulk_create() splits
        them, at the backend's parameter limit (SQLite's; PostgreSQL has none)."""
        if len(objs) == 1:
            return 1
        return max(1, connection.ops.bulk_batch_size(self.fields, objs))

    @staticmethod
    def row_params(obj: M, values: list[_FieldValue],
                   related: list[Any] | None = None) -> list[Any]:
        """One new row's parameters, in the fields' order; its relations checked first as
        bulk_create() checks them (all of them, or only those in `related` when given)."""
        if obj.pk is not None:
            raise ValueError("a prepared insert takes new rows only (no key set)")
        if related is None:
            obj._prepare_related_fields_for_save(operation_name="bulk_create")
        elif related:
            obj._prepare_related_fields_for_save(operation_name="bulk_create", fields=related)
        return [prepare(get(obj)) for get, prepare in values]

    def _values(self, connection: Any) -> list[_FieldValue]:
        """Per field, how to read its value from a row (`pre_save(add=True)`) and prepare it
        (`get_db_prep_save`), made once per connection (runs/prepared_values.py): each
        thread's own, as Django's connections are."""
        values = self._preparers.get(connection)
        if values is None:
            values = [(value_getter(field), value_preparer(field, connection))
                      for field in self.fields]
            self._preparers[connection] = values
        return values

    def _statement(self, connection: Any) -> tuple[str, str, str]:
        """The INSERT's text around its rows for this connection's database, written once:
        `INSERT INTO t (columns) VALUES `, one row's placeholders, and ` RETURNING id` where
        the database reads keys back ("" where it cannot)."""
        statement = self._statements.get(connection.vendor)
        if statement is None:
            quote = connection.ops.quote_name
            columns = ", ".join(quote(field.column) for field in self.fields)
            statement = (
                f"INSERT INTO {quote(self.model._meta.db_table)} ({columns}) VALUES ",
                "(" + ", ".join(["%s"] * len(self.fields)) + ")",
                f" RETURNING {quote(self.pk.column)}"
                if connection.features.can_return_rows_from_bulk_insert else "")
            self._statements[connection.vendor] = statement
        return statement

    def _numbered(self, connection: Any, rows: int) -> str:
        """PostgreSQL's INSERT of this many rows, its parameters numbered ($1, $2 ...) for
        raw_execute, written once per number of rows (a few hundred kept)."""
        sql = self._numbered_statements.get(rows)
        if sql is None:
            head, _row, tail = self._statement(connection)
            number = itertools.count(1)
            sql = head + ", ".join(
                "(" + ", ".join(f"${next(number)}" for _ in self.fields) + ")"
                for _ in range(rows)) + tail
            if len(self._numbered_statements) < 256:
                self._numbered_statements[rows] = sql
        return sql


def _nothing() -> None:
    """A prepared insert of no rows."""


def raw_execute(connection: Any, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """A statement whose parameters are numbered ($1, $2 ...) run on Django's PostgreSQL
    connection by psycopg's RawCursor, and the rows it returns, as Django's cursor runs one:
    the health check and connecting first, then the connection's execute wrappers
    (`connection.execute_wrapper`), the refusal in a broken transaction, the translation of
    database errors and, where queries are logged (DEBUG, CaptureQueriesContext), the log.
    Only the text is not rewritten: Django's cursor would have psycopg rewrite every %s into
    $n again on each call, which psycopg keeps only for statements of at most 50 parameters
    (a run and its logs have ~70; bench/RESULTS.md)."""
    from psycopg import RawCursor

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with RawCursor(connection.connection) as cursor:
        def execute(sql: str, params: Any, many: bool, context: dict[str, Any]) -> None:
            connection.validate_no_broken_transaction()
            with connection.wrap_database_errors:
                cursor.execute(sql, params)

        run: Callable[..., None] = execute
        for wrapper in reversed(connection.execute_wrappers):
            run = functools.partial(wrapper, run)
        context = {"connection": connection, "cursor": cursor}
        if connection.queries_logged:
            start = time.monotonic()
            try:
                run(sql, params, False, context)
            finally:
                connection.queries_log.append(
                    {"sql": sql, "time": f"{time.monotonic() - start:.3f}"})
        else:
            run(sql, params, False, context)
        with connection.wrap_database_errors:
            return cursor.fetchall()


# Beyond this many parameters a batch goes the two-statement way (PostgreSQL takes at most
# 65,535 per statement with server-side binding).
_MOST_PARAMS = 30_000


class PreparedInsertWithChildren[P: Model, C: Model]:
    """New parent rows and their children's rows (each parent has at least one) in ONE
    statement, on PostgreSQL: each parent is inserted by a data-modifying CTE, and the one
    INSERT of all children reads its parent's new key from it.

        RUN_AND_LOGS = PreparedInsertWithChildren(PreparedInsert(Run), PreparedInsert(RunLog),
                                                  link="run")
        if RUN_AND_LOGS.applies(connection, rows):   # rows: [(run, [log, ...]), ...]
            RUN_AND_LOGS.insert(rows)                # every object gets its key

        WITH p0 AS (INSERT INTO run (...) VALUES (...) RETURNING id), p1 AS (...)
        INSERT INTO log (run_id, ...) VALUES ((SELECT id FROM p0), ...), ... RETURNING id, run_id

    One statement is atomic by itself, so outside a transaction it needs no BEGIN and COMMIT:
    one round trip instead of four (BEGIN, the parents' INSERT, the children's, COMMIT), and
    less work on both sides (bench/RESULTS.md). The keys come back in the children's order,
    as PostgreSQL returns an INSERT ... VALUES's rows (which Django's bulk_create() relies on
    too); each parent's key is its first child's link. Values are read and prepared as
    PreparedInsert does.
    """

    def __init__(self, parents: PreparedInsert[P], children: PreparedInsert[C], *, link: str):
        self.parents, self.children = parents, children
        field = children.model._meta.get_field(link)
        if field not in children.fields or field.remote_field.model is not parents.model:
            raise ValueError(f"{children.model.__name__}.{link} is not a key to "
                             f"{parents.model.__name__}")
        self.link = field
        self.link_index = children.fields.index(field)
        # The children's other relations are checked as bulk_create() checks them; the link is
        # to a parent written by the same statement.
        self.related = [other for other in children.fields if other.is_relation
                        and other is not field]
        self._statements: dict[tuple[int, ...], str] = {}  # PostgreSQL's, by shape

    def applies(self, connection: Any, rows: list[tuple[P, list[C]]]) -> bool:
        """Whether these rows can be written this way here: PostgreSQL, outside a transaction
        (autocommit, so that the statement is committed when it returns), every parent with
        a child, and not more parameters than one statement takes."""
        if (connection.vendor != "postgresql" or connection.in_atomic_block
                or not connection.get_autocommit() or not rows):
            return False
        children = 0
        for _parent, its_children in rows:
            if not its_children:
                return False
            children += len(its_children)
        return (len(rows) * len(self.parents.fields)
                + children * len(self.children.fields)) <= _MOST_PARAMS

    def insert(self, rows: list[tuple[P, list[C]]]) -> None:
        self.prepared(rows)()

    def prepared(self, rows: list[tuple[P, list[C]]]) -> Callable[[], None]:
        """insert(rows) in two steps, as PreparedInsert.prepared: the statement and its
        parameters now, run when the result is called."""
        connection = connections[self.parents.using]
        parent_values = self.parents._values(connection)
        child_values = [value for i, value in enumerate(self.children._values(connection))
                        if i != self.link_index]  # the link is the CTE's key
        params: list[Any] = []
        for parent, _children in rows:
            params += self.parents.row_params(parent, parent_values)
        for _parent, its_children in rows:
            for child in its_children:
                params += self.children.row_params(child, child_values, self.related)
        sql = self._sql(connection, tuple(len(its_children) for _, its_children in rows))

        def run() -> None:
            returned = iter(raw_execute(connection, sql, params))
            for parent, its_children in rows:
                for n, child in enumerate(its_children):
                    child_key, parent_key = next(returned)
                    if n == 0:
                        setattr(parent, self.parents.pk.attname, parent_key)
                        parent._state.adding, parent._state.db = False, self.parents.using
                    setattr(child, self.children.pk.attname, child_key)
                    setattr(child, self.link.attname, parent_key)  # drops the cached parent:
                    self.link.set_cached_value(child, parent)  # `child.run` is `parent` again
                    child._state.adding, child._state.db = False, self.children.using
        return run

    def _sql(self, connection: Any, shape: tuple[int, ...]) -> str:
        """The statement for parents with these numbers of children, written once per shape
        (a few hundred kept), its parameters numbered: the parents' values, then the
        children's, in order."""
        sql = self._statements.get(shape)
        if sql is not None:
            return sql
        quote = connection.ops.quote_name
        key = quote(self.parents.pk.column)
        parent_head, _, _ = self.parents._statement(connection)
        child_head, _, _ = self.children._statement(connection)
        number = itertools.count(1)
        ctes = []
        for i in range(len(shape)):
            slots = ", ".join(f"${next(number)}" for _ in self.parents.fields)
            ctes.append(f"p{i} AS ({parent_head}({slots}) RETURNING {key})")
        child_rows = []
        for i, count in enumerate(shape):
            for _ in range(count):
                slots = ", ".join(f"(SELECT {key} FROM p{i})" if j == self.link_index
                                  else f"${next(number)}"
                                  for j in range(len(self.children.fields)))
                child_rows.append(f"({slots})")
        sql = (f"WITH {', '.join(ctes)} {child_head}{', '.join(child_rows)} "
               f"RETURNING {quote(self.children.pk.column)}, {quote(self.link.column)}")
        if len(self._statements) < 256:
            self._statements[shape] = sql
        return sql
