"""New, unsaved model instances built fast, for the rows every request builds: a run, and one
log per node attempt.

    NEW_RUN = Unsaved(Run)
    run = NEW_RUN(workflow=workflow, version=version, trigger="webhook", input=body)

The same object `Run(workflow=workflow, ...)` gives, built without Django's constructor, which
looks up every field's default and descriptor and sends the pre_init/post_init signals per
call (~20 % of storing an accepted run, bench/RESULTS.md): the values go straight into the new
object's __dict__, as the constructor would put them, a related object given by its field's
name cached as the constructor caches it. That is only right while nothing listens to those
signals for the model (checked per call) and every field's attribute is Django's plain one (a
field with a descriptor of its own, such as a FileField, needs its __set__; checked once);
otherwise the positional constructor (the one `Model.from_db` uses) builds it. A callable
default (`created_at=timezone.now`) is called for each object; any other default must be
immutable, as it is shared.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Model, signals
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute


class Unsaved[M: Model]:
    def __init__(self, model: type[M]):
        self.model = model
        self._plain: bool | None = None  # whether every field's attribute is Django's plain one
        self._defaults: dict[str, Any] | None = None
        self._made: list[tuple[str, Callable[[], Any]]] = []  # callable defaults, by attname
        self._relations = {field.name: field for field in model._meta.concrete_fields
                           if field.is_relation}

    def __call__(self, **values: Any) -> M:
        """A new, unsaved instance with these field values (by field name, or a relation's
        key by its attname)."""
        row = dict(self._defaults_by_attname())
        for attname, make in self._made:
            row[attname] = make()
        related = []
        for name, value in values.items():
            field = self._relations.get(name)
            if field is not None:  # an object (or None) for a relation: its key, and cached
                if value is not None and not isinstance(value, field.remote_field.model):
                    raise ValueError(f"{self.model.__name__}.{name} must be a "
                                     f"{field.remote_field.model.__name__} instance")
                row[field.attname] = getattr(value, field.target_field.attname, None)
                related.append((field, value))
            elif name in row:
                row[name] = value
            else:
                raise TypeError(f"{self.model.__name__} has no field {name!r}")
        if self.direct():
            obj = self.model.__new__(self.model)
            obj._state = ModelState()
            obj.__dict__.update(row)
        else:
            obj = self.model(*row.values())
        for field, value in related:
            field.set_cached_value(obj, value)
        return obj

    def direct(self) -> bool:
        """Whether filling __dict__ is all the constructor would do."""
        if self._plain is None:
            self._plain = all(type(getattr(self.model, f.attname, None)) in
                              (DeferredAttribute, ForeignKeyDeferredAttribute)
                              for f in self.model._meta.concrete_fields)
        # `receivers` first: an empty list (no model has any) answers without has_listeners's
        # lookup, which costs more than the rest of this function
        model = self.model
        return self._plain and not (
            (signals.pre_init.receivers and signals.pre_init.has_listeners(model))
            or (signals.post_init.receivers and signals.post_init.has_listeners(model)))

    def _defaults_by_attname(self) -> dict[str, Any]:
        """Every concrete field's attname -> its default, in the constructor's order (a
        callable default's place kept, its value made per object)."""
        if self._defaults is None:
            found: dict[str, Any] = {}
            made = []
            for field in self.model._meta.concrete_fields:
                if field.has_default() and callable(field.default):
                    found[field.attname] = None
                    made.append((field.attname, field.default))
                    continue
                value = field.get_default()  # what Model(...) sets for a missing field
                if field is not self.model._meta.pk and not isinstance(
                        value, (str, int, type(None))):
                    raise TypeError(f"{self.model.__name__}.{field.name}: a mutable default "
                                    "cannot be shared")
                found[field.attname] = value
            self._made = made
            self._defaults = found
        return self._defaults
