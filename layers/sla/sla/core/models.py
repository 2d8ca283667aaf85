"""Building the core's frozen models on the fold's hot path, without validating again what is
already valid: a delivery builds a few models, and pydantic's own constructors and
``model_copy`` cost more than the fold's logic does."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["built", "replaced"]

_M = TypeVar("_M", bound=BaseModel)
# pydantic keeps a model's fields in ``__dict__`` and three attributes beside it, all slots of
# BaseModel: their descriptors set them without the generic attribute lookup (the same effect)
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
_new = object.__new__
# every field of a frozen model, as the set of fields given: one set per class, shared by the
# models built here (a frozen model never adds to it; pydantic copies it before a change)
_ALL_GIVEN: dict[type[BaseModel], set[str]] = {}


def _all_given(cls: type[BaseModel]) -> set[str]:
    assert cls.model_config.get("frozen"), "only frozen models share their set"
    assert cls.__new__ is _new, "the model makes its instances as object does"
    given = _ALL_GIVEN[cls] = set(cls.__pydantic_fields__)
    return given


def built(cls: type[_M], values: dict[str, Any]) -> _M:
    """A frozen model of values already checked, every field given: what ``model_construct``
    does without its per-field bookkeeping."""
    given = _ALL_GIVEN.get(cls) or _all_given(cls)
    assert len(values) == len(given), "every field is given"
    model = _new(cls)
    _set_dict(model, values)
    _set_fields_set(model, given)
    _set_extra(model, None)
    _set_private(model, None)
    return model


def replaced(model: _M, **update: Any) -> _M:
    """A frozen ``model`` with some fields replaced by values already checked: ``model_copy``
    of a model without extra or private attributes, at a fraction of its cost (every field then
    counts as given, as in :func:`built`)."""
    return built(type(model), {**model.__dict__, **update})
