"""Reads and updates written as SQL once, for the hot paths: Django compiles a
queryset anew every time it is evaluated, which costs more CPU here than the query costs the
database (a Run with its workflow and version: ~2 ms to compile and build, ~0.3 ms to run;
bench/RESULTS.md).

    QUEUED = PreparedRead(lambda pk: Run.objects.select_related("workflow", "version")
                          .filter(pk=pk, status="queued"))
    run = QUEUED.first(pk=5)     # or None; run.workflow and run.version loaded

`build` is called once per thread (each thread has its own database connection) with a
placeholder for each of its arguments (whole numbers only: primary keys). The SQL it compiles
to is kept, and each read runs it with the placeholders replaced by the values given; constant
values compiled into it ("queued" above) stay as they were. PreparedUpdate does the same for
an UPDATE of fixed fields on the rows a queryset selects (new rows: runs/prepared_inserts.py).
A row becomes instances the way Django's own iterator builds them: each column through its
field's and the backend's converters, then `Model.from_db` for the model and for each
select_related one (forward relations; a missing one is None).
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet

# Placeholders stand for integer arguments while a read compiles: inside the range of every
# integer field but the small ones (Django compiles an out-of-range lookup to "no rows"), and
# distinct from the query's own constants.
_PLACEHOLDER_BASE = 2_147_480_000


def _slots(params: Any, placeholders: dict[str, int], what: str) -> list[str | None]:
    """For each compiled parameter, the argument whose placeholder it is (None: a constant).
    Integers may come wrapped (psycopg's Int4 for an IntegerField on PostgreSQL)."""
    by_value = {value: name for name, value in placeholders.items()}
    slots = [by_value.get(int(param))
             if isinstance(param, int) and not isinstance(param, bool) else None
             for param in params]
    missing = set(placeholders) - {slot for slot in slots if slot}
    if missing:
        raise ValueError(f"the {what} does not use its argument(s) {sorted(missing)}")
    return slots


def _bind(constants: list[Any], slots: list[str | None], values: dict[str, Any]) -> list[Any]:
    """The parameters for `values`: each placeholder replaced by its argument's whole number,
    in the placeholder's own type; the constants as compiled."""
    return [constant if slot is None else type(constant)(_whole(values[slot]))
            for constant, slot in zip(constants, slots, strict=True)]


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"a prepared statement takes whole numbers, not {value!r}")
    return value


class _Prepared[M: Model, C]:
    """What both kinds share: the queryset builder, its argument names and the statement
    compiled once per thread (each thread has its own database connection)."""

    def __init__(self, build: Callable[..., QuerySet[M]], *, using: str = "default"):
        self.build = build
        self.using = using
        self.names = tuple(inspect.signature(build).parameters)
        self._local = threading.local()

    def _compiled(self, keys: dict[str, Any]) -> C:
        if set(keys) != set(self.names):
            raise TypeError(f"expected the values {self.names}, got {tuple(keys)}")
        compiled: C | None = getattr(self._local, "compiled", None)
        if compiled is None:
            compiled = self._local.compiled = self._compile()
        return compiled

    def _placeholders(self) -> dict[str, int]:
        return {name: _PLACEHOLDER_BASE + i for i, name in enumerate(self.names)}

    def _compile(self) -> C:
        raise NotImplementedError


class PreparedRead[M: Model](_Prepared[M, "_Compiled"]):
    def first(self, **values: int) -> M | None:
        """The first row the read finds for `values`, as a model instance, or None."""
        compiled = self._compiled(values)
        params = _bind(compiled.constants, compiled.slots, values)
        with connections[self.using].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        row = list(row)
        connection = connections[self.using]
        for position, (converters, expression) in compiled.converters:
            value = row[position]
            for converter in converters:
                value = converter(value, expression, connection)
            row[position] = value
        return compiled.shape.build(self.using, row)

    def _compile(self) -> _Compiled:
        placeholders = self._placeholders()
        queryset = self.build(**placeholders).order_by()  # no ORDER BY: rows by their key
        compiler = queryset.query.get_compiler(using=self.using)
        sql, params = compiler.as_sql()
        slots = _slots(params, placeholders, "read")
        converters = compiler.get_converters([column for column, _sql, _alias in compiler.select])
        return _Compiled(sql, list(params), slots, list(converters.items()),
                         _Shape.of(compiler.klass_info, compiler.select))


@dataclass(frozen=True)
class _Compiled:
    sql: str
    constants: list[Any]  # the compiled parameters; a placeholder's is replaced by its value
    slots: list[str | None]  # for each parameter, the argument it stands for (None: constant)
    converters: list[tuple[int, tuple[list[Callable[..., Any]], Any]]]
    shape: _Shape


@dataclass(frozen=True)
class _Shape:
    """Which columns of a row make which model instance, and where it hangs on its parent."""

    model: type[Model]
    start: int
    end: int
    attnames: list[str]
    related: list[tuple[_Shape, Callable[[Model, Model | None], None],
                        Callable[[Model, Model], None]]]

    @classmethod
    def of(cls, klass_info: dict[str, Any], select: list[Any]) -> _Shape:
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        if klass_info.get("from_parent") or list(fields) != list(range(start, end)):
            raise ValueError("prepared reads load forward relations only")
        related = [(cls.of(info, select), info["local_setter"], info["remote_setter"])
                   for info in klass_info.get("related_klass_infos", ())]
        return cls(klass_info["model"], start, end,
                   [column.target.attname for column, _sql, _alias in select[start:end]],
                   related)

    def build(self, using: str, row: list[Any]) -> Any:
        values = row[self.start:self.end]
        pk = self.model._meta.pk
        assert pk is not None
        if values[self.attnames.index(pk.attname)] is None:
            return None  # a nullable relation that is not set
        obj = self.model.from_db(using, self.attnames, values)
        for shape, set_local, set_remote in self.related:
            related = shape.build(using, row)
            set_local(obj, related)
            if related is not None:
                set_remote(related, obj)
        return obj


class PreparedUpdate[M: Model](_Prepared[M, "_CompiledUpdate"]):
    """An UPDATE of fixed fields on the rows a queryset selects, compiled once per thread.

        FINISH = PreparedUpdate(lambda pk: Run.objects.filter(pk=pk, status="queued"),
                                fields=("status", "result"))
        FINISH.update({"status": "succeeded", "result": {...}}, pk=5)   # rows changed

    The WHERE clause is the queryset's, compiled by Django with placeholders as PreparedRead
    does; each SET value is prepared by its field (`get_db_prep_save`), as QuerySet.update()
    prepares it (no `pre_save`: auto_now fields are not touched, as with update()).
    """

    def __init__(self, build: Callable[..., QuerySet[M]], *, fields: tuple[str, ...],
                 using: str = "default"):
        super().__init__(build, using=using)
        self.fields = fields

    def update(self, values: dict[str, Any], **keys: int) -> int:
        if set(values) != set(self.fields):
            raise TypeError(f"expected the fields {self.fields}, got {tuple(values)}")
        compiled = self._compiled(keys)
        connection = connections[self.using]
        params = [field.get_db_prep_save(values[field.name], connection)
                  for field in compiled.fields]
        params += _bind(compiled.constants, compiled.slots, keys)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            return cursor.rowcount

    def _compile(self) -> _CompiledUpdate:
        placeholders = self._placeholders()
        queryset = self.build(**placeholders)
        model = queryset.model
        connection = connections[self.using]
        compiler = queryset.query.get_compiler(using=self.using)
        where, params = compiler.compile(queryset.query.where)
        slots = _slots(params, placeholders, "update")
        fields = [model._meta.get_field(name) for name in self.fields]
        quote = connection.ops.quote_name
        assignments = ", ".join(f"{quote(field.column)} = %s"  # type: ignore[union-attr]
                                for field in fields)
        sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {where}"
        return _CompiledUpdate(sql, fields, list(params), slots)


@dataclass(frozen=True)
class _CompiledUpdate:
    sql: str
    fields: list[Any]  # the SET fields, in order
    constants: list[Any]
    slots: list[str | None]
