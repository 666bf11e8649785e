"""Field-driven record JSON: keys, parsing, omitted fields and the defaults of old files."""

from dataclasses import dataclass

import pytest

from jaxgp.record_fields import json_field, number, record_dict, record_from, unless_true


@dataclass(frozen=True)
class Inner:
    value: int

    def to_dict(self) -> dict:
        return {"value": self.value}


@dataclass(frozen=True)
class Example:
    name: str
    inner: Inner = json_field(key="nested", parse=lambda d: Inner(d["value"]))
    pairs: tuple = json_field(default=(), write=dict, parse=lambda d: tuple(d.items()))
    count: int | None = number(int)
    flag: bool = json_field(default=False, omit=unless_true)
    derived: str = json_field(default="", written=False)


def test_a_record_is_written_field_by_field_under_its_keys_and_read_back_equal():
    record = Example("a", Inner(3), (("x", 1.5),), 4, True, "not written")
    data = record_dict(record)
    assert data == {"name": "a", "nested": {"value": 3}, "pairs": {"x": 1.5}, "count": 4,
                    "flag": True}  # fmt: skip
    assert list(data) == ["name", "nested", "pairs", "count", "flag"]
    assert record_from(Example, data, derived="not written") == record


def test_a_flag_that_is_not_set_is_left_out_and_reads_back_as_its_default():
    data = record_dict(Example("a", Inner(1)))
    assert "flag" not in data and "derived" not in data
    assert record_from(Example, data).flag is False


def test_a_file_written_before_a_field_existed_loads_with_the_fields_default():
    old = {"name": "a", "nested": {"value": 2}}
    assert record_from(Example, old) == Example("a", Inner(2))


def test_a_number_written_as_text_or_null_reads_as_its_kind_or_none():
    assert record_from(Example, {"name": "a", "nested": {"value": 0}, "count": "7"}).count == 7
    assert record_from(Example, {"name": "a", "nested": {"value": 0}, "count": None}).count is None


def test_a_record_missing_a_required_field_is_an_error_its_reader_catches():
    with pytest.raises(TypeError):
        record_from(Example, {"nested": {"value": 0}})
