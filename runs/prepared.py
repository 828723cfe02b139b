"""Reads compiled to SQL once per process, for the hot paths: Django compiles a queryset anew
every time it is evaluated, which costs more CPU here than the query costs the database (a
Run by primary key: ~0.6 ms to compile, ~0.3 ms to run; bench/RESULTS.md, Celery drain).

    QUEUED = PreparedRead(lambda pk: Run.objects.filter(pk=pk, status="queued"))
    run = QUEUED.first(pk=5)     # or None

`build` is called once per database connection's vendor with a placeholder for each of its
arguments (whole numbers only: primary keys); the SQL it compiles to is kept, and each read
runs it with the placeholders replaced by the values given. Constant values compiled into the
SQL ("queued" above) stay as they were. Rows become model instances through Django's
RawQuerySet, so each field's database converters apply as in any other read.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet

_PLACEHOLDER_BASE = -7_340_991_000  # no primary key is negative


class PreparedRead[M: Model]:
    def __init__(self, build: Callable[..., QuerySet[M]], *, using: str = "default"):
        self.build = build
        self.using = using
        self.names = tuple(inspect.signature(build).parameters)
        self._compiled: dict[str, _Compiled[M]] = {}
        self._lock = threading.Lock()

    def first(self, **values: int) -> M | None:
        """The first row the read finds for `values`, as a model instance, or None."""
        if set(values) != set(self.names):
            raise TypeError(f"expected the values {self.names}, got {tuple(values)}")
        vendor = connections[self.using].vendor
        compiled = self._compiled.get(vendor)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(vendor) or self._compile(vendor)
        params = [constant if slot is None else values[slot]
                  for constant, slot in zip(compiled.constants, compiled.slots, strict=True)]
        for obj in compiled.model._default_manager.using(self.using).raw(compiled.sql, params):
            return obj
        return None

    def _compile(self, vendor: str) -> _Compiled[M]:
        placeholders = {name: _PLACEHOLDER_BASE - i for i, name in enumerate(self.names)}
        queryset = self.build(**placeholders).order_by()  # no ORDER BY: one row by its key
        sql, params = queryset.query.get_compiler(using=self.using).as_sql()
        by_value = {value: name for name, value in placeholders.items()}
        slots = [by_value.get(param) if type(param) is int else None for param in params]
        missing = set(self.names) - {slot for slot in slots if slot}
        if missing:
            raise ValueError(f"the read does not use its argument(s) {sorted(missing)}")
        compiled = _Compiled(queryset.model, sql, list(params), slots)
        self._compiled[vendor] = compiled
        return compiled


@dataclass(frozen=True)
class _Compiled[M: Model]:
    model: type[M]
    sql: str
    constants: list[Any]  # the compiled parameters; a placeholder's is replaced by its value
    slots: list[str | None]  # for each parameter, the argument it stands for (None: constant)
