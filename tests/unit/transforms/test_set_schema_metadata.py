"""SetSchemaMetadata$Key / $Value against the reference (§7.12); expected values written from
it, not from running the code."""

from __future__ import annotations

import pytest

from connectors.sdk import DataError, SchemaBuilder, Struct
from connectors.sdk.data import INT32_SCHEMA, STRING_SCHEMA, array_schema
from connectors.transforms.set_schema_metadata import (
    SetSchemaMetadata,
    SetSchemaMetadataKey,
    SetSchemaMetadataValue,
)
from tests.unit.transforms.records import sink_record
from tests.unit.transforms.support import configured

SCHEMA = (
    SchemaBuilder.struct()
    .name("old.Name")
    .version(1)
    .doc("kept")
    .parameter("p", "v")
    .optional()
    .field("a", INT32_SCHEMA)
    .field("n", SchemaBuilder.string().optional().default_value("d"))
    .build()
)


def test_name_and_version_on_a_struct_value_rebuild_the_struct() -> None:
    value = Struct(SCHEMA, {"a": 1, "n": "x"})
    out = configured(SetSchemaMetadataValue, {"schema.name": "foo", "schema.version": "42"}).apply(
        sink_record(value, SCHEMA)
    )
    assert out is not None
    schema = out.value_schema
    assert (schema.name, schema.version, schema.doc, schema.parameters, schema.optional) == (
        "foo",
        42,
        "kept",
        {"p": "v"},
        True,
    )
    assert schema.fields == SCHEMA.fields
    assert out.value.schema is schema
    assert out.value.values == {"a": 1, "n": "x"}
    out.value.validate()


def test_only_the_configured_part_changes() -> None:
    out = configured(SetSchemaMetadataValue, {"schema.version": "7"}).apply(
        sink_record(Struct(SCHEMA, {"a": 1}), SCHEMA)
    )
    assert out is not None and (out.value_schema.name, out.value_schema.version) == ("old.Name", 7)
    out = configured(SetSchemaMetadataValue, {"schema.name": "new"}).apply(
        sink_record(Struct(SCHEMA, {"a": 1}), SCHEMA)
    )
    assert out is not None and (out.value_schema.name, out.value_schema.version) == ("new", 1)


def test_non_struct_values_keep_their_value() -> None:
    out = configured(SetSchemaMetadataKey, {"schema.name": "k"}).apply(
        sink_record("v", key="id-1", key_schema=STRING_SCHEMA)
    )
    assert out is not None
    assert (out.key, out.key_schema.name, out.key_schema.type) == ("id-1", "k", STRING_SCHEMA.type)
    items = array_schema(INT32_SCHEMA)
    out = configured(SetSchemaMetadataValue, {"schema.name": "arr"}).apply(sink_record([1, 2], items))
    assert out is not None
    assert (out.value, out.value_schema.value_schema, out.value_schema.name) == ([1, 2], INT32_SCHEMA, "arr")


def test_a_null_with_a_schema_gets_the_new_schema() -> None:
    out = configured(SetSchemaMetadataValue, {"schema.name": "foo"}).apply(sink_record(None, SCHEMA))
    assert out is not None and out.value is None and out.value_schema.name == "foo"


def test_schemaless_tombstone_passes_and_schemaless_data_fails() -> None:
    record = sink_record(None)
    assert configured(SetSchemaMetadataValue, {"schema.name": "foo"}).apply(record) is record
    with pytest.raises(DataError, match=r"^Schema required for \[updating schema metadata\]$"):
        configured(SetSchemaMetadataValue, {"schema.name": "foo"}).apply(sink_record({"a": 1}))


def test_null_fields_take_their_default_unless_told_otherwise() -> None:
    value = Struct(SCHEMA, {"a": 1, "n": None})
    out = configured(SetSchemaMetadataValue, {"schema.name": "x"}).apply(sink_record(value, SCHEMA))
    assert out is not None and out.value.get("n") == "d"
    out = configured(
        SetSchemaMetadataValue, {"schema.name": "x", "replace.null.with.default": "false"}
    ).apply(sink_record(value, SCHEMA))
    assert out is not None and out.value.get("n") is None


def test_the_new_schema_is_reused() -> None:
    transform = configured(SetSchemaMetadataValue, {"schema.name": "x"})
    first = transform.apply(sink_record(Struct(SCHEMA, {"a": 1}), SCHEMA))
    second = transform.apply(sink_record(Struct(SCHEMA, {"a": 2}), SCHEMA))
    assert first is not None and second is not None and first.value_schema is second.value_schema


def test_config_errors() -> None:
    model = SetSchemaMetadata.config_model
    assert model.errors_by_key({}) == {
        "schema.name": [
            "Invalid value null for configuration schema.name: Neither schema name nor version configured"
        ]
    }
    assert model.errors_by_key({"schema.version": "x"}) == {
        "schema.version": ["Invalid value x for configuration schema.version: Not a number of type INT"]
    }
    assert {k.name: k.type for k in model.describe()} == {
        "schema.name": "STRING",
        "schema.version": "INT",
        "replace.null.with.default": "BOOLEAN",
    }
