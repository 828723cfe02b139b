"""What a field's value becomes among an INSERT's parameters, the common cases without Django's
field layers, for the rows `PreparedInsert` writes (a run's node logs, a deferred run's row).

    prepare = value_preparer(field, connection)
    prepare(value)    # == field.get_db_prep_save(value, connection)

Each fast case is what Django's own path computes for that exact field class and that exact value
type (Django 6.1's Field, CharField, TextField, the integer fields, BooleanField, DateTimeField,
JSONField with an object or an array, a ForeignKey to an automatic key, and this project's
NulSafeTextField and NulSafeJSONField); where Django asks the
backend to adapt a value (`connection.ops`), the backend is still asked. Anything else (another
field class or a subclass, another value type, an expression) goes Django's way. Between them
the ~40 values of a run's row and its logs cost ~60 % less to prepare. The test
(tests/runs/test_prepared_values.py) compares both ways, value by value, on every field of the
models written this way, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from operator import attrgetter
from typing import Any

from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations

from wfaib.nul_safe import NulSafeJSONField, NulSafeTextField, without_nul

Preparer = Callable[[Any], Any]

INTEGER_FIELDS = (models.IntegerField, models.BigIntegerField, models.SmallIntegerField,
                  models.PositiveIntegerField, models.PositiveBigIntegerField,
                  models.PositiveSmallIntegerField)
AUTOMATIC_KEYS = (models.AutoField, models.BigAutoField, models.SmallAutoField)


def value_preparer(field: models.Field, connection: Any) -> Preparer:
    slow = _slow(field, connection)
    fast = _fast(field, connection)
    if fast is None:
        return slow
    types, convert = fast
    none = slow(None)  # every class handled here maps None to one constant (NULL)
    if convert is _same:
        def as_is(value: Any) -> Any:  # the same without a call to _same for every value
            if value is None:
                return none
            if type(value) in types:
                return value
            return slow(value)

        return as_is

    def prepare(value: Any) -> Any:
        if value is None:
            return none
        if type(value) in types:
            return convert(value)
        return slow(value)

    return prepare


def _slow(field: models.Field, connection: Any) -> Preparer:
    def prepare(value: Any) -> Any:
        return field.get_db_prep_save(value, connection)

    return prepare


def _fast(field: models.Field, connection: Any) -> tuple[tuple[type, ...], Preparer] | None:
    """(the value types handled, their conversion) for this exact field class, or None."""
    kind, ops = type(field), connection.ops
    if kind in (models.CharField, models.TextField):
        return (str,), _same
    if kind is NulSafeTextField:
        return (str,), without_nul
    if kind in INTEGER_FIELDS:
        internal = field.get_internal_type()
        return (int,), lambda value: ops.adapt_integerfield_value(value, internal)
    if kind is models.BooleanField:
        return (bool,), _same
    if kind in (models.JSONField, NulSafeJSONField):
        return (dict, list), _json_adapter(field, ops)
    if kind is models.DateTimeField:
        adapt = ops.adapt_datetimefield_value

        def aware(value: datetime) -> Any:  # a naive one goes Django's way (and its warning)
            return adapt(value) if value.utcoffset() is not None else field.get_db_prep_save(
                value, connection)

        return (datetime,), aware
    if kind is models.ForeignKey and type(field.target_field) in AUTOMATIC_KEYS:
        return (int,), ops.validate_autopk_value
    return None


def _json_adapter(field: models.JSONField, ops: Any) -> Preparer:
    """The backend's `adapt_json_value`; where that is Django's default (`json.dumps(value,
    cls=encoder)`, as on SQLite), one encoder made once instead of one per value."""
    if type(ops).adapt_json_value is not BaseDatabaseOperations.adapt_json_value:
        encoder_class = field.encoder
        return lambda value: ops.adapt_json_value(value, encoder_class)
    return (field.encoder or json.JSONEncoder)().encode


def _same(value: Any) -> Any:
    return value


def value_getter(field: models.Field) -> Callable[[models.Model], Any]:
    """`field.pre_save(obj, add=True)`, as a plain attribute read where that is all it does
    (every field but the DateTimeFields with auto_now or auto_now_add, here)."""
    attname = field.attname
    plain = type(field).pre_save is models.Field.pre_save or (
        isinstance(field, models.DateField) and not field.auto_now
        and not field.auto_now_add and type(field).pre_save in (models.DateField.pre_save,
                                                                 models.DateTimeField.pre_save))
    if plain:
        return attrgetter(attname)  # no Python frame per value
    return lambda obj: field.pre_save(obj, True)
