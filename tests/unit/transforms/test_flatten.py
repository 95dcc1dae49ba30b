"""Flatten$Key / $Value against the reference (§7.7) and Kafka's documented behaviour; expected
values written from those, not from running the code."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.sdk import DataError, SchemaBuilder, Struct
from connectors.sdk.data import (
    BOOLEAN_SCHEMA,
    BYTES_SCHEMA,
    FLOAT32_SCHEMA,
    FLOAT64_SCHEMA,
    INT8_SCHEMA,
    INT16_SCHEMA,
    INT32_SCHEMA,
    INT64_SCHEMA,
    STRING_SCHEMA,
    Schema,
    array_schema,
    map_schema,
)
from connectors.sdk.logical import Timestamp
from connectors.transforms.flatten import Flatten, FlattenKey, FlattenValue
from tests.unit.transforms.records import sink_record
from tests.unit.transforms.support import configured

PRIMITIVES: list[tuple[str, Schema, Any]] = [
    ("int8", INT8_SCHEMA, 8),
    ("int16", INT16_SCHEMA, 16),
    ("int32", INT32_SCHEMA, 32),
    ("int64", INT64_SCHEMA, 64),
    ("float32", FLOAT32_SCHEMA, 32.0),
    ("float64", FLOAT64_SCHEMA, 64.0),
    ("boolean", BOOLEAN_SCHEMA, True),
    ("string", STRING_SCHEMA, "stringy"),
    ("bytes", BYTES_SCHEMA, b"bytes"),
]


def supported() -> tuple[Schema, Struct]:
    builder = SchemaBuilder.struct()
    for name, schema, _ in PRIMITIVES:
        builder.field(name, schema)
    schema = builder.build()
    return schema, Struct(schema, {name: value for name, _, value in PRIMITIVES})


def test_nested_structs_become_dotted_fields() -> None:
    leaf_schema, leaf = supported()
    b_schema = SchemaBuilder.struct().field("B", leaf_schema).build()
    a_schema = SchemaBuilder.struct().name("Top").version(2).field("A", b_schema).build()
    value = Struct(a_schema, {"A": Struct(b_schema, {"B": leaf})})
    out = configured(FlattenValue, {}).apply(sink_record(value, a_schema))
    assert out is not None
    schema = out.value_schema
    assert (schema.name, schema.version) == ("Top", 2)
    assert [(f.name, f.schema) for f in schema.fields] == [(f"A.B.{n}", s) for n, s, _ in PRIMITIVES]
    assert out.value.values == {f"A.B.{n}": v for n, _, v in PRIMITIVES}
    out.value.validate()


def test_nested_maps_with_a_delimiter() -> None:
    leaf = {name: value for name, _, value in PRIMITIVES}
    out = configured(FlattenValue, {"delimiter": "#"}).apply(sink_record({"A": {"B": leaf}, "top": 1}))
    assert out is not None
    assert out.value == {**{f"A#B#{n}": v for n, _, v in PRIMITIVES}, "top": 1}
    assert out.value_schema is None


def test_schemaless_nulls_and_lists_are_kept() -> None:
    value = {"B": {"opt_int32": None, "list": [1, {"x": 2}]}, "C": None}
    out = configured(FlattenValue, {}).apply(sink_record(value))
    assert out is not None
    assert out.value == {"B.opt_int32": None, "B.list": [1, {"x": 2}], "C": None}


def test_key_variant() -> None:
    out = configured(FlattenKey, {}).apply(sink_record("v", key={"A": {"B": 12}}))
    assert out is not None and (out.key, out.value) == ({"A.B": 12}, "v")


def test_arrays_are_kept_with_their_schema() -> None:
    items = array_schema(STRING_SCHEMA)
    inner = SchemaBuilder.struct().field("list", items).build()
    outer = SchemaBuilder.struct().field("A", inner).build()
    out = configured(FlattenValue, {}).apply(
        sink_record(Struct(outer, {"A": Struct(inner, {"list": ["a", "b"]})}), outer)
    )
    assert out is not None
    assert out.value_schema.field("A.list").schema == items  # type: ignore[union-attr]
    assert out.value.get("A.list") == ["a", "b"]


def test_logical_types_keep_their_schema() -> None:
    inner = SchemaBuilder.struct().field("at", Timestamp.schema()).build()
    outer = SchemaBuilder.struct().field("A", inner).build()
    out = configured(FlattenValue, {}).apply(
        sink_record(Struct(outer, {"A": Struct(inner, {"at": None})}), outer)
    )
    assert out is not None
    assert out.value_schema.field("A.at").schema == Timestamp.schema()  # type: ignore[union-attr]


def test_a_null_optional_struct_leaves_its_fields_null_and_optional() -> None:
    inner = SchemaBuilder.struct().optional().field("x", INT32_SCHEMA).build()
    outer = SchemaBuilder.struct().field("B", inner).field("y", INT32_SCHEMA).build()
    out = configured(FlattenValue, {}).apply(sink_record(Struct(outer, {"B": None, "y": 1}), outer))
    assert out is not None
    assert out.value_schema.field("B.x").schema == INT32_SCHEMA.as_optional()  # type: ignore[union-attr]
    assert out.value_schema.field("y").schema == INT32_SCHEMA  # type: ignore[union-attr]
    assert out.value.get("B.x") is None and out.value.get("y") == 1
    out.value.validate()


def test_defaults_and_optionality_come_from_ancestors() -> None:
    inner = (
        SchemaBuilder.struct()
        .optional()
        .field("x", INT32_SCHEMA)
        .field("z", SchemaBuilder.int32().default_value(3))
        .build()
    )
    with_default = SchemaBuilder.from_schema(inner).default_value(Struct(inner, {"x": 5, "z": 6})).build()
    outer = SchemaBuilder.struct().field("I", with_default).build()
    transform = configured(FlattenValue, {"delimiter": "_"})
    out = transform.apply(sink_record(Struct(outer, {"I": None}), outer))
    assert out is not None
    x = out.value_schema.field("I_x").schema  # type: ignore[union-attr]
    z = out.value_schema.field("I_z").schema  # type: ignore[union-attr]
    assert (x.optional, x.default) == (True, 5)  # from the parent's default struct
    assert (z.optional, z.default) == (True, 3)  # its own default wins
    # a null struct reads as its default struct (Kafka's Struct.get), so its values are copied
    assert (out.value.get("I_x"), out.value.get("I_z")) == (5, 6)


def test_a_whole_optional_top_level_struct_makes_every_field_optional() -> None:
    inner = SchemaBuilder.struct().field("x", INT32_SCHEMA).build()
    outer = SchemaBuilder.struct().optional().field("A", inner).build()
    out = configured(FlattenValue, {}).apply(
        sink_record(Struct(outer, {"A": Struct(inner, {"x": 1})}), outer)
    )
    assert out is not None
    assert out.value_schema.field("A.x").schema.optional  # type: ignore[union-attr]


def test_a_map_field_with_schema_is_unsupported() -> None:
    schema = SchemaBuilder.struct().field("m", map_schema(STRING_SCHEMA, STRING_SCHEMA)).build()
    with pytest.raises(
        DataError,
        match=r"^Flatten transformation does not support MAP for record with schemas \(for field m\)\.$",
    ):
        configured(FlattenValue, {}).apply(sink_record(Struct(schema, {"m": {}}), schema))


def test_a_struct_inside_schemaless_data_is_unsupported() -> None:
    schema = SchemaBuilder.struct().field("a", INT32_SCHEMA).build()
    with pytest.raises(
        DataError,
        match=r"^Flatten transformation does not support class org.apache.kafka.connect.data.Struct "
        r"for record without schemas \(for field x.s\)\.$",
    ):
        configured(FlattenValue, {}).apply(sink_record({"x": {"s": Struct(schema, {"a": 1})}}))


def test_null_operand_passes_unchanged_and_wrong_kinds_fail() -> None:
    record = sink_record(None)
    assert configured(FlattenValue, {}).apply(record) is record
    with pytest.raises(
        DataError, match=r"^Only Struct objects supported for \[flattening\], found: java.lang.Long$"
    ):
        configured(FlattenValue, {}).apply(sink_record(1, INT64_SCHEMA))


def test_the_flattened_schema_is_reused() -> None:
    inner = SchemaBuilder.struct().field("x", INT32_SCHEMA).build()
    outer = SchemaBuilder.struct().field("A", inner).build()
    transform = configured(FlattenValue, {})
    first = transform.apply(sink_record(Struct(outer, {"A": Struct(inner, {"x": 1})}), outer))
    second = transform.apply(sink_record(Struct(outer, {"A": Struct(inner, {"x": 2})}), outer))
    assert first is not None and second is not None
    assert first.value_schema is second.value_schema
    assert second.value.get("A.x") == 2


def test_delimiter_defaults_to_a_dot() -> None:
    (key,) = Flatten.config_model.describe()
    assert (key.name, key.default_value) == ("delimiter", ".")
