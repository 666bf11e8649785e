"""Field-driven JSON for the run directory's records (`jaxgp.search.records`, and the
scores, fitness and epoch records they hold).

A record's dict form is its dataclass fields in order, each under its JSON key; it is read
back field by field. A field says what differs from that in its metadata (`json_field`):
another key, how its JSON value is read (`parse`, for nested records and numbers) or
written (`write`, where `plain` does not do), and when it is left out (`omit`); a field
missing from the file takes its default, which is how files written before the field
existed still load. Where a record's older files need more (a value derived from others),
its `from_dict` says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

METADATA = "jaxgp.json"
R = TypeVar("R")


def json_field(
    *,
    key: str | None = None,
    parse: Callable[[Any], Any] | None = None,
    write: Callable[[Any], Any] | None = None,
    omit: Callable[[Any], bool] | None = None,
    written: bool = True,
    **field_options: Any,
) -> Any:
    """A dataclass field with its JSON form: under `key` (default: its name), read with
    `parse`, written as `write(value)`, left out when `omit(value)`, or never `written` (a
    value that another field's JSON carries)."""
    spec = {"key": key, "parse": parse, "write": write, "omit": omit, "written": written}
    return dataclasses.field(metadata={METADATA: spec}, **field_options)


def unless_true(value: Any) -> bool:
    """`omit` for a flag written only when it is set."""
    return not value


def number(kind: type) -> Any:
    """An optional number (default None), read as `kind`."""
    return json_field(default=None, parse=lambda value: None if value is None else kind(value))


PLAIN = {"key": None, "parse": None, "write": None, "omit": None, "written": True}


def _spec(field: dataclasses.Field) -> dict:
    return field.metadata.get(METADATA) or PLAIN


def plain(value: Any) -> Any:
    """`value` as JSON data: records by their `to_dict`, tuples as lists, mappings as dicts."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    return value


def record_dict(record: Any) -> dict:
    """The JSON form of a dataclass record, field by field."""
    data = {}
    for field in dataclasses.fields(record):
        spec, value = _spec(field), getattr(record, field.name)
        if not spec["written"] or (spec["omit"] is not None and spec["omit"](value)):
            continue
        data[spec["key"] or field.name] = (spec["write"] or plain)(value)
    return data


def record_from(cls: type[R], data: Mapping | None, **known: Any) -> R:
    """The record of type `cls` that `record_dict` wrote in `data`; the fields in `known`
    are given (read by the caller), a field `data` lacks takes its default."""
    data = data or {}
    values = dict(known)
    for field in dataclasses.fields(cls):
        spec = _spec(field)
        key = spec["key"] or field.name
        if field.name in values or not spec["written"] or key not in data:
            continue
        values[field.name] = spec["parse"](data[key]) if spec["parse"] else data[key]
    return cls(**values)
