"""ExtractField$Key / $Value against the reference (§7.5) and Kafka's documented behaviour;
expected values written from those, not from running the code."""

from __future__ import annotations

import pytest

from connectors.sdk import ConfigError, DataError, SchemaBuilder, Struct
from connectors.sdk.data import INT32_SCHEMA, INT64_SCHEMA, STRING_SCHEMA
from connectors.transforms.extract_field import ExtractField, ExtractFieldKey, ExtractFieldValue
from tests.unit.transforms.records import sink_record
from tests.unit.transforms.support import configured

INNER = SchemaBuilder.struct().field("foo", INT32_SCHEMA).build()
OUTER = (
    SchemaBuilder.struct()
    .field("magic", INT64_SCHEMA)
    .field("nested", INNER)
    .field("dotted.name", STRING_SCHEMA)
    .field("opt", SchemaBuilder.int32().optional().default_value(5))
    .build()
)


def outer(**values: object) -> Struct:
    base = {"magic": 42, "nested": Struct(INNER, {"foo": 7}), "dotted.name": "d", "opt": None}
    base.update(values)
    return Struct(OUTER, base)


def test_schemaless_key_field() -> None:
    record = sink_record("v", key={"magic": 42, "other": 1})
    out = configured(ExtractFieldKey, {"field": "magic"}).apply(record)
    assert out is not None
    assert (out.key, out.key_schema, out.value) == (42, None, "v")


def test_schemaless_missing_field_is_null_and_null_stays_null() -> None:
    transform = configured(ExtractFieldValue, {"field": "nope"})
    out = transform.apply(sink_record({"magic": 42}))
    assert out is not None and out.value is None
    out = transform.apply(sink_record(None))
    assert out is not None and out.value is None and out.value_schema is None


def test_with_schema_takes_the_field_and_its_schema() -> None:
    out = configured(ExtractFieldValue, {"field": "magic"}).apply(sink_record(outer(), OUTER))
    assert out is not None
    assert (out.value, out.value_schema) == (42, INT64_SCHEMA)


def test_with_schema_a_null_operand_gives_null_with_the_field_schema() -> None:
    out = configured(ExtractFieldValue, {"field": "magic"}).apply(sink_record(None, OUTER))
    assert out is not None
    assert (out.value, out.value_schema) == (None, INT64_SCHEMA)


def test_with_schema_an_unknown_field_fails() -> None:
    with pytest.raises(DataError, match=r"^Unknown field: nope$"):
        configured(ExtractFieldValue, {"field": "nope"}).apply(sink_record(outer(), OUTER))


def test_v1_reads_a_dotted_name_as_one_field() -> None:
    out = configured(ExtractFieldValue, {"field": "dotted.name"}).apply(sink_record(outer(), OUTER))
    assert out is not None and out.value == "d"


def test_v2_reads_nested_struct_and_map_paths() -> None:
    props = {"field": "nested.foo", "field.syntax.version": "V2"}
    out = configured(ExtractFieldValue, props).apply(sink_record(outer(), OUTER))
    assert out is not None
    assert (out.value, out.value_schema) == (7, INT32_SCHEMA)
    out = configured(ExtractFieldValue, props).apply(sink_record({"nested": {"foo": 9}}))
    assert out is not None and out.value == 9


def test_v2_backticks_wrap_a_dotted_name() -> None:
    props = {"field": "`dotted.name`", "field.syntax.version": "v2"}
    out = configured(ExtractFieldValue, props).apply(sink_record(outer(), OUTER))
    assert out is not None and out.value == "d"
    with pytest.raises(DataError, match=r"^Unknown field: dotted\.name$"):
        configured(ExtractFieldValue, {"field": "dotted.name", "field.syntax.version": "V2"}).apply(
            sink_record(outer(), OUTER)
        )


def test_null_field_takes_its_default_unless_told_otherwise() -> None:
    record = sink_record(outer(), OUTER)
    out = configured(ExtractFieldValue, {"field": "opt"}).apply(record)
    assert out is not None and out.value == 5
    out = configured(ExtractFieldValue, {"field": "opt", "replace.null.with.default": "false"}).apply(record)
    assert out is not None and out.value is None


def test_operand_of_the_wrong_kind_fails() -> None:
    with pytest.raises(
        DataError,
        match=r"^Only Map objects supported in absence of schema for \[field extraction\], found: java.lang.String$",
    ):
        configured(ExtractFieldValue, {"field": "x"}).apply(sink_record("text"))
    with pytest.raises(
        DataError, match=r"^Only Struct objects supported for \[field extraction\], found: java.lang.Long$"
    ):
        configured(ExtractFieldValue, {"field": "x"}).apply(sink_record(3, INT64_SCHEMA))


def test_config_errors() -> None:
    assert ExtractField.config_model.errors_by_key({}) == {
        "field": ['Missing required configuration "field" which has no default value.']
    }
    assert ExtractField.config_model.errors_by_key({"field": "`a.b", "field.syntax.version": "V2"}) == {
        "field": [
            "Invalid value `a.b for configuration field: Incomplete backtick pair in path: [`a.b], "
            "consider adding a backslash before backtick at position 0 to escape it"
        ]
    }
    assert ExtractField.config_model.errors_by_key({"field": "`a.b"}) == {}  # V1: just a name
    with pytest.raises(ConfigError, match="String must be one of"):
        ExtractField.config_model.parse({"field": "a", "field.syntax.version": "V9"})
