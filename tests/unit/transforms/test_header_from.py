"""HeaderFrom$Key / $Value (§7.14): fields copied or moved into headers, with and without schemas."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.sdk import DataError, SchemaBuilder, SinkRecord, Struct
from connectors.sdk.data import INT32_SCHEMA, OPTIONAL_STRING_SCHEMA, STRING_SCHEMA
from connectors.sdk.records import Header
from connectors.transforms.header_from import HeaderFromConfig, HeaderFromKey, HeaderFromValue
from tests.unit.transforms.support import configured

OLD = Header("existing", "x")
SCHEMA = (
    SchemaBuilder.struct()
    .name("orders.Value")
    .field("id", INT32_SCHEMA)
    .field("source", STRING_SCHEMA)
    .field("region", SchemaBuilder.string().optional().default_value("eu").build())
    .build()
)


def record(value: Any, schema: Any = None, key: Any = None, key_schema: Any = None) -> SinkRecord:
    return SinkRecord(
        topic="orders",
        partition=0,
        value=value,
        value_schema=schema,
        key=key,
        key_schema=key_schema,
        headers=(OLD,),
        kafka_offset=1,
    )


PROPS = {"fields": "source,region", "headers": "h_source,h_region"}


def test_schemaless_copy_keeps_fields_and_appends_headers() -> None:
    out = configured(HeaderFromValue, {**PROPS, "operation": "copy"}).apply(
        record({"id": 1, "source": "web", "region": "us"})
    )
    assert out is not None
    assert out.value == {"id": 1, "source": "web", "region": "us"}
    assert out.headers == (OLD, Header("h_source", "web"), Header("h_region", "us"))


def test_schemaless_move_removes_fields_and_missing_fields_give_null_headers() -> None:
    out = configured(HeaderFromValue, {**PROPS, "operation": "move"}).apply(
        record({"id": 1, "source": "web"})
    )
    assert out is not None
    assert out.value == {"id": 1}
    assert out.headers == (OLD, Header("h_source", "web"), Header("h_region", None))


def test_struct_copy_gives_headers_the_field_schemas() -> None:
    struct = Struct(SCHEMA, {"id": 1, "source": "web", "region": "us"})
    out = configured(HeaderFromValue, {**PROPS, "operation": "copy"}).apply(record(struct, SCHEMA))
    assert out is not None
    assert out.value is struct and out.value_schema is SCHEMA
    assert out.headers == (
        OLD,
        Header("h_source", "web", STRING_SCHEMA),
        Header("h_region", "us", SCHEMA.field("region").schema),
    )


def test_struct_move_drops_the_fields_from_the_schema_and_uses_defaults_for_nulls() -> None:
    struct = Struct(SCHEMA, {"id": 1, "source": "web", "region": None})
    transform = configured(HeaderFromValue, {"fields": "source", "headers": "h", "operation": "move"})
    out = transform.apply(record(struct, SCHEMA))
    assert out is not None
    assert out.value_schema.name == "orders.Value"
    assert [f.name for f in out.value_schema.fields] == ["id", "region"]
    assert out.value.values == {"id": 1, "region": "eu"}  # replace.null.with.default on by default
    assert out.headers == (OLD, Header("h", "web", STRING_SCHEMA))
    again = transform.apply(record(Struct(SCHEMA, {"id": 2, "source": "app", "region": "us"}), SCHEMA))
    assert again is not None and again.value_schema is out.value_schema  # cached


def test_null_kept_when_replace_null_with_default_is_off() -> None:
    struct = Struct(SCHEMA, {"id": 1, "source": "web", "region": None})
    props = {"fields": "region", "headers": "h", "operation": "copy", "replace.null.with.default": "false"}
    out = configured(HeaderFromValue, props).apply(record(struct, SCHEMA))
    assert out is not None
    assert out.headers[-1] == Header("h", None, SCHEMA.field("region").schema)


def test_key_variant_reads_the_key() -> None:
    key_schema = (
        SchemaBuilder.struct().field("tenant", OPTIONAL_STRING_SCHEMA).field("id", INT32_SCHEMA).build()
    )
    out = configured(HeaderFromKey, {"fields": "tenant", "headers": "tenant", "operation": "move"}).apply(
        record("v", STRING_SCHEMA, Struct(key_schema, {"tenant": "acme", "id": 5}), key_schema)
    )
    assert out is not None
    assert out.key.values == {"id": 5}
    assert out.value == "v"
    assert out.headers[-1] == Header("tenant", "acme", OPTIONAL_STRING_SCHEMA)


def test_wrong_operand_types_fail_with_kafkas_messages() -> None:
    transform = configured(HeaderFromValue, {**PROPS, "operation": "move"})
    with pytest.raises(
        DataError,
        match=r"^Only Map objects supported in absence of schema for \[header move\], found: java.lang.String$",
    ):
        transform.apply(record("text"))
    with pytest.raises(DataError, match=r"^Only Struct objects supported for \[header move\], found: null$"):
        transform.apply(record(None, SCHEMA.as_optional()))


def test_unknown_struct_field_is_a_data_error() -> None:
    transform = configured(HeaderFromValue, {"fields": "nope", "headers": "h", "operation": "copy"})
    with pytest.raises(DataError, match="Unknown field: nope"):
        transform.apply(record(Struct(SCHEMA, {"id": 1, "source": "s"}), SCHEMA))


def test_config_errors_in_kafkas_words() -> None:
    assert HeaderFromConfig.errors_by_key({"fields": "", "headers": "", "operation": "copy"}) == {
        "fields": ["Invalid value  for configuration fields: Empty list"],
        "headers": ["Invalid value  for configuration headers: Empty list"],
    }
    assert HeaderFromConfig.errors_by_key({"fields": "a", "headers": "b", "operation": "cut"}) == {
        "operation": ["Invalid value cut for configuration operation: String must be one of: move, copy"]
    }
    errors = HeaderFromConfig.errors_by_key({"fields": "a,b", "headers": "h", "operation": "copy"})
    assert errors == {
        "headers": [
            "Invalid value h for configuration headers: 'fields' config must have the same number of elements as 'headers' config."
        ]
    }
