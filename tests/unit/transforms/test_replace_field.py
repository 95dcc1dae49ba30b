"""ReplaceField$Key / $Value against the reference (§7.2) and Kafka's documented examples;
expected values written from those, not from running the code."""

from __future__ import annotations

import logging

import pytest

from connectors.sdk import ConfigError, DataError, SchemaBuilder, Struct
from connectors.sdk.data import BOOLEAN_SCHEMA, INT32_SCHEMA, STRING_SCHEMA
from connectors.transforms.replace_field import ReplaceField, ReplaceFieldKey, ReplaceFieldValue
from tests.unit.transforms.records import sink_record
from tests.unit.transforms.support import configured

SCHEMA = (
    SchemaBuilder.struct()
    .name("com.example.Row")
    .version(3)
    .doc("a row")
    .field("dont", STRING_SCHEMA)
    .field("abc", INT32_SCHEMA)
    .field("foo", BOOLEAN_SCHEMA)
    .field("etc", STRING_SCHEMA)
    .build()
)


def row() -> Struct:
    return Struct(SCHEMA, {"dont": "whatever", "abc": 42, "foo": True, "etc": "etc"})


def test_schemaless_exclude_and_rename() -> None:
    transform = configured(ReplaceFieldValue, {"exclude": "dont", "renames": "abc:xyz,foo:bar"})
    out = transform.apply(sink_record({"dont": "whatever", "abc": 42, "foo": True, "etc": "etc"}))
    assert out is not None
    assert out.value == {"xyz": 42, "bar": True, "etc": "etc"}
    assert list(out.value) == ["xyz", "bar", "etc"]  # order kept


def test_with_schema_include_and_rename_keeps_order_and_basics() -> None:
    transform = configured(ReplaceFieldValue, {"include": "abc,foo,bar", "renames": "abc:xyz,foo:bar"})
    out = transform.apply(sink_record(row(), SCHEMA))
    assert out is not None
    schema = out.value_schema
    assert (schema.name, schema.version, schema.doc) == ("com.example.Row", 3, "a row")
    assert [(f.name, f.schema) for f in schema.fields] == [("xyz", INT32_SCHEMA), ("bar", BOOLEAN_SCHEMA)]
    assert out.value.schema is schema
    assert (out.value.get("xyz"), out.value.get("bar")) == (42, True)
    out.value.validate()


def test_exclude_takes_precedence_over_include() -> None:
    transform = configured(ReplaceFieldValue, {"include": "abc,foo", "exclude": "foo"})
    out = transform.apply(sink_record({"abc": 1, "foo": 2, "etc": 3}))
    assert out is not None and out.value == {"abc": 1}
    out = transform.apply(sink_record(row(), SCHEMA))
    assert out is not None and [f.name for f in out.value_schema.fields] == ["abc"]


def test_filtering_uses_the_original_names() -> None:
    transform = configured(ReplaceFieldValue, {"include": "abc", "renames": "abc:foo"})
    out = transform.apply(sink_record({"abc": 1, "foo": 2}))
    assert out is not None and out.value == {"foo": 1}


def test_a_renamed_excluded_field_does_not_shadow_a_kept_one() -> None:
    transform = configured(ReplaceFieldValue, {"exclude": "abc", "renames": "abc:etc"})
    out = transform.apply(sink_record(row(), SCHEMA))
    assert out is not None
    assert [f.name for f in out.value_schema.fields] == ["dont", "foo", "etc"]
    assert out.value.get("etc") == "etc"


def test_renames_that_swap_names() -> None:
    out = configured(ReplaceFieldValue, {"renames": "abc:etc,etc:abc", "exclude": "dont,foo"}).apply(
        sink_record(row(), SCHEMA)
    )
    assert out is not None
    assert [f.name for f in out.value_schema.fields] == ["etc", "abc"]
    assert (out.value.get("etc"), out.value.get("abc")) == (42, "etc")


def test_a_rename_onto_an_existing_field_is_a_data_error() -> None:
    with pytest.raises(DataError, match="Cannot create field because of field name duplication etc"):
        configured(ReplaceFieldValue, {"renames": "abc:etc"}).apply(sink_record(row(), SCHEMA))


def test_the_derived_schema_is_reused() -> None:
    transform = configured(ReplaceFieldValue, {"exclude": "dont"})
    first = transform.apply(sink_record(row(), SCHEMA))
    second = transform.apply(sink_record(row(), SCHEMA))
    assert first is not None and second is not None
    assert first.value_schema is second.value_schema


def test_tombstone_passes_unchanged() -> None:
    record = sink_record(None, SCHEMA)
    assert configured(ReplaceFieldValue, {"exclude": "dont"}).apply(record) is record


def test_key_variant() -> None:
    record = sink_record("v", key={"id": 1, "secret": 2})
    out = configured(ReplaceFieldKey, {"exclude": "secret"}).apply(record)
    assert out is not None and (out.key, out.value) == ({"id": 1}, "v")


def test_null_fields_take_their_default_unless_told_otherwise() -> None:
    schema = SchemaBuilder.struct().field("n", SchemaBuilder.string().optional().default_value("d")).build()
    record = sink_record(Struct(schema, {"n": None}), schema)
    out = configured(ReplaceFieldValue, {"renames": "n:m"}).apply(record)
    assert out is not None and out.value.get("m") == "d"
    out = configured(ReplaceFieldValue, {"renames": "n:m", "replace.null.with.default": "false"}).apply(
        record
    )
    assert out is not None and out.value.get("m") is None


def test_deprecated_names_still_work() -> None:
    out = configured(ReplaceFieldValue, {"blacklist": "dont"}).apply(sink_record({"dont": 1, "do": 2}))
    assert out is not None and out.value == {"do": 2}
    out = configured(ReplaceFieldValue, {"whitelist": "do"}).apply(sink_record({"dont": 1, "do": 2, "x": 3}))
    assert out is not None and out.value == {"do": 2}


def test_the_new_name_wins_over_the_deprecated_one(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        transform = configured(ReplaceFieldValue, {"exclude": "a", "blacklist": "b"})
    assert "blacklist" in caplog.text
    out = transform.apply(sink_record({"a": 1, "b": 2}))
    assert out is not None and out.value == {"b": 2}
    out = configured(ReplaceFieldValue, {"include": "a", "whitelist": "b"}).apply(
        sink_record({"a": 1, "b": 2})
    )
    assert out is not None and out.value == {"a": 1}


def test_operand_of_the_wrong_kind_fails() -> None:
    with pytest.raises(
        DataError,
        match=r"^Only Map objects supported in absence of schema for \[field replacement\], found: java.lang.Long$",
    ):
        configured(ReplaceFieldValue, {}).apply(sink_record(5))


def test_rename_mappings_are_validated() -> None:
    for bad in ("abc", "a:b:c", "a:", ""):
        assert ReplaceField.config_model.errors_by_key({"renames": f"x:y,{bad}"}) == {
            "renames": [f"Invalid value x:y,{bad} for configuration renames: Invalid rename mapping: {bad}"]
        }
    assert ReplaceField.config_model.errors_by_key({"renames": "a:b, c:d"}) == {}
    assert ReplaceField.config_model.parse({"renames": "a:b:, :e"}).rename_map() == {"a": "b", "": "e"}
    with pytest.raises(ConfigError, match="Invalid rename mapping: abc"):
        ReplaceField.config_model.parse({"renames": "abc"})


def test_every_setting_is_described() -> None:
    keys = {k.name: (k.type, k.default_value) for k in ReplaceField.config_model.describe()}
    assert keys == {
        "exclude": ("LIST", ""),
        "blacklist": ("LIST", None),
        "include": ("LIST", ""),
        "whitelist": ("LIST", None),
        "renames": ("LIST", ""),
        "replace.null.with.default": ("BOOLEAN", "true"),
    }
