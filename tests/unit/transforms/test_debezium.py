"""Debezium's ExtractNewRecordState against the reference (§3), on events shaped as the PostgreSQL
connector emits them (§2.8); expected values written from the reference, not from running the code."""

from __future__ import annotations

from typing import Any

import pytest

from app.plugins.registry import PluginRegistry
from connectors.sdk import ConfigError, DataError, SchemaBuilder, SourceRecord, Struct
from connectors.sdk.data import (
    OPTIONAL_INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    Schema,
    SchemaType,
)
from connectors.sdk.records import Header
from connectors.transforms.debezium import ExtractNewRecordState, ExtractNewRecordStateConfig
from tests.unit.transforms import debezium_events as dbz
from tests.unit.transforms.support import configured

MODES = ("drop", "tombstone", "rewrite", "rewrite-with-tombstone", "delete-to-tombstone")


def smt(**props: str) -> ExtractNewRecordState:
    return configured(ExtractNewRecordState, {k.replace("_", "."): v for k, v in props.items()})


def mode(name: str) -> ExtractNewRecordState:
    return configured(ExtractNewRecordState, {"delete.tombstone.handling.mode": name})


def create() -> SourceRecord:
    return dbz.event("c", after=dbz.row(1, "Anne", "NL"))


def delete() -> SourceRecord:
    return dbz.event("d", before=dbz.row(1, "Anne", "NL"))


def truncate() -> SourceRecord:
    return dbz.event("t")


def rewritten_schema(*extra: tuple[str, Schema]) -> Schema:
    """The row schema plus ``__deleted`` (optional string) and any added fields, in that order.
    Like Kafka's copySchemaBasics it keeps name/version/doc/parameters but not optionality."""
    builder = (
        SchemaBuilder.struct()
        .name(f"{dbz.TOPIC}.Value")
        .field("id", SchemaBuilder.int32())
        .field("name", SchemaBuilder.string().optional())
        .field("country", SchemaBuilder.string().optional().default_value("NL"))
        .field("__deleted", SchemaBuilder.string().optional())
    )
    for name, schema in extra:
        builder.field(name, schema)
    return builder.build()


def widened_schema(*extra: tuple[str, Schema]) -> Schema:
    """The row schema plus added fields (no ``__deleted``)."""
    builder = (
        SchemaBuilder.struct()
        .name(f"{dbz.TOPIC}.Value")
        .field("id", SchemaBuilder.int32())
        .field("name", SchemaBuilder.string().optional())
        .field("country", SchemaBuilder.string().optional().default_value("NL"))
    )
    for name, schema in extra:
        builder.field(name, schema)
    return builder.build()


# -- records that are not change events ---------------------------------------------------------


@pytest.mark.parametrize("name", MODES)
def test_non_envelope_records_pass_unchanged(name: str) -> None:
    transform = mode(name)
    heartbeat = dbz.heartbeat()
    assert transform.apply(heartbeat) is heartbeat
    plain = SourceRecord(topic="t", value="just text")
    assert transform.apply(plain) is plain
    no_envelope_map = dbz.schemaless(heartbeat)
    assert transform.apply(no_envelope_map) is no_envelope_map


def test_envelope_named_schema_with_a_non_struct_value_is_a_data_error() -> None:
    record = create().new_record(value="oops")
    with pytest.raises(
        DataError, match=r"Only Struct objects supported for \[field extraction\], found: java.lang.String"
    ):
        mode("rewrite").apply(record)


# -- create / update / read -------------------------------------------------------------------


@pytest.mark.parametrize("op", ["c", "u", "r"])
@pytest.mark.parametrize("name", ["drop", "tombstone", "delete-to-tombstone"])
def test_upserts_become_the_after_row(op: str, name: str) -> None:
    before = dbz.row(1, "Anne", "NL") if op == "u" else None
    record = dbz.event(op, before=before, after=dbz.row(1, "Annie", "BE"))
    out = mode(name).apply(record)
    assert out is not None
    assert out.value == Struct(dbz.ROW_SCHEMA, {"id": 1, "name": "Annie", "country": "BE"})
    assert out.value_schema is dbz.ROW_SCHEMA  # the row schema itself, optional as in the envelope
    assert (out.topic, out.key, out.key_schema) == (dbz.TOPIC, dbz.key(1), dbz.KEY_SCHEMA)
    assert out.source_offset == record.source_offset and out.headers == ()


@pytest.mark.parametrize("name", ["rewrite", "REWRITE-With-Tombstone"])
def test_rewrite_modes_add_deleted_false_to_upserts(name: str) -> None:
    out = mode(name).apply(create())
    assert out is not None
    schema = rewritten_schema()
    assert out.value_schema == schema
    assert out.value_schema.optional is False
    assert out.value_schema.field("__deleted").schema == OPTIONAL_STRING_SCHEMA  # a string, not a boolean
    assert out.value == Struct(schema, {"id": 1, "name": "Anne", "country": "NL", "__deleted": "false"})
    out.value.validate()


def test_derived_schemas_are_built_once_per_envelope_schema() -> None:
    transform = smt(delete_tombstone_handling_mode="rewrite", add_fields="op")
    first = transform.apply(create())
    second = transform.apply(dbz.event("u", after=dbz.row(2)))
    assert first is not None and second is not None
    assert first.value_schema is second.value_schema


# -- deletes, tombstones, truncates per mode ---------------------------------------------------


def test_drop_removes_deletes_and_tombstones() -> None:
    transform = mode("drop")
    assert transform.apply(delete()) is None
    assert transform.apply(dbz.tombstone(1)) is None


def test_tombstone_mode_turns_a_delete_into_a_null_value_keeping_the_row_schema() -> None:
    transform = mode("tombstone")
    out = transform.apply(delete())
    assert out is not None
    assert out.value is None
    assert out.value_schema is dbz.ROW_SCHEMA
    assert (out.key, out.key_schema, out.topic) == (dbz.key(1), dbz.KEY_SCHEMA, dbz.TOPIC)
    assert transform.apply(dbz.tombstone(1)) is None


def test_rewrite_turns_a_delete_into_the_before_row_with_deleted_true() -> None:
    transform = mode("rewrite")
    out = transform.apply(delete())
    assert out is not None
    assert out.value == Struct(
        rewritten_schema(), {"id": 1, "name": "Anne", "country": "NL", "__deleted": "true"}
    )
    assert out.value_schema == rewritten_schema()
    assert out.key == dbz.key(1)
    assert transform.apply(dbz.tombstone(1)) is None


def test_rewrite_with_tombstone_keeps_the_original_tombstone() -> None:
    transform = mode("rewrite-with-tombstone")
    tombstone = dbz.tombstone(1)
    assert transform.apply(tombstone) is tombstone
    out = transform.apply(delete())
    assert out is not None and out.value.get("__deleted") == "true"


def test_delete_to_tombstone_makes_a_true_tombstone_and_drops_the_original() -> None:
    transform = mode("delete-to-tombstone")
    out = transform.apply(delete())
    assert out is not None
    assert (out.value, out.value_schema) == (None, None)
    assert (out.key, out.key_schema) == (dbz.key(1), dbz.KEY_SCHEMA)
    assert transform.apply(dbz.tombstone(1)) is None


@pytest.mark.parametrize(
    "props",
    [
        *({"delete.tombstone.handling.mode": m} for m in MODES),
        {},
        {"delete.handling.mode": "none", "drop.tombstones": "false"},
        {"delete.handling.mode": "rewrite"},
    ],
)
def test_truncates_are_dropped_in_every_mode(props: dict[str, str]) -> None:
    assert configured(ExtractNewRecordState, props).apply(truncate()) is None


def test_mode_names_are_trimmed_and_case_insensitive() -> None:
    out = mode("  Delete-To-TOMBSTONE ").apply(delete())
    assert out is not None and out.value_schema is None


# -- the legacy pair and the default ----------------------------------------------------------


def test_no_key_at_all_drops_deletes_and_tombstones_like_debezium_before_3_2() -> None:
    transform = configured(ExtractNewRecordState, {})
    assert transform.apply(delete()) is None
    assert transform.apply(dbz.tombstone(1)) is None
    out = transform.apply(create())
    assert out is not None and out.value == dbz.row(1, "Anne", "NL")


def test_legacy_none_without_dropping_tombstones_keeps_both() -> None:
    transform = configured(
        ExtractNewRecordState, {"delete.handling.mode": "NONE", "drop.tombstones": "false"}
    )
    out = transform.apply(delete())
    assert out is not None
    assert out.value is None and out.value_schema is dbz.ROW_SCHEMA
    tombstone = dbz.tombstone(1)
    assert transform.apply(tombstone) is tombstone


def test_legacy_rewrite_drops_tombstones_by_default() -> None:
    transform = configured(ExtractNewRecordState, {"delete.handling.mode": "rewrite"})
    out = transform.apply(delete())
    assert out is not None and out.value.get("__deleted") == "true"
    upsert = transform.apply(create())
    assert upsert is not None and upsert.value.get("__deleted") == "false"
    assert transform.apply(dbz.tombstone(1)) is None


def test_legacy_drop_tombstones_false_alone_keeps_tombstones_and_drops_deletes() -> None:
    transform = configured(ExtractNewRecordState, {"drop.tombstones": "false"})
    tombstone = dbz.tombstone(1)
    assert transform.apply(tombstone) is tombstone
    assert transform.apply(delete()) is None


def test_the_new_key_wins_over_the_legacy_pair() -> None:
    transform = configured(
        ExtractNewRecordState,
        {
            "delete.tombstone.handling.mode": "drop",
            "drop.tombstones": "false",
            "delete.handling.mode": "rewrite",
        },
    )
    assert transform.apply(dbz.tombstone(1)) is None
    assert transform.apply(delete()) is None
    out = transform.apply(create())
    assert out is not None and out.value_schema is dbz.ROW_SCHEMA  # no __deleted


def test_a_blank_new_key_counts_as_unset() -> None:
    transform = configured(
        ExtractNewRecordState, {"delete.tombstone.handling.mode": "  ", "drop.tombstones": "false"}
    )
    tombstone = dbz.tombstone(1)
    assert transform.apply(tombstone) is tombstone


# -- add.fields -------------------------------------------------------------------------------


def test_add_fields_naming_lookup_and_schemas() -> None:
    transform = smt(
        add_fields="op,table,lsn,source.ts_ms,ts_ms,version:VERSION,id,transaction.total_order,nope"
    )
    out = transform.apply(dbz.event("c", after=dbz.row(1), tx=dbz.transaction()))
    assert out is not None
    expected_schema = widened_schema(
        ("__op", OPTIONAL_STRING_SCHEMA),
        ("__table", OPTIONAL_STRING_SCHEMA),
        ("__lsn", OPTIONAL_INT64_SCHEMA),
        ("__source_ts_ms", OPTIONAL_INT64_SCHEMA),
        ("__ts_ms", OPTIONAL_INT64_SCHEMA),
        ("__VERSION", OPTIONAL_STRING_SCHEMA),
        ("__id", OPTIONAL_STRING_SCHEMA),
        ("__transaction_total_order", OPTIONAL_INT64_SCHEMA),
    )
    assert out.value_schema == expected_schema  # "nope" exists nowhere: skipped
    assert out.value == Struct(
        expected_schema,
        {
            "id": 1,
            "name": "Anne",
            "country": "NL",
            "__op": "c",
            "__table": "customers",
            "__lsn": dbz.LSN,
            "__source_ts_ms": dbz.SOURCE_TS_MS,
            "__ts_ms": dbz.EVENT_TS_MS,
            "__VERSION": "2.7.4.Final",
            "__id": f"{dbz.TX_ID}:{dbz.LSN}",
            "__transaction_total_order": 1,
        },
    )
    out.value.validate()


def test_transaction_fields_are_null_without_transaction_metadata() -> None:
    out = smt(add_fields="id,data_collection_order").apply(create())
    assert out is not None
    assert out.value.get("__id") is None and out.value.get("__data_collection_order") is None


def test_added_field_schema_is_a_basic_optional_copy_without_default() -> None:
    out = smt(add_fields="snapshot").apply(dbz.event("r", after=dbz.row(1)))
    assert out is not None
    added = out.value_schema.field("__snapshot").schema
    assert (added.type, added.optional, added.name, added.version) == (
        SchemaType.STRING,
        True,
        "io.debezium.data.Enum",
        1,
    )
    assert added.parameters == dbz.SNAPSHOT_SCHEMA.parameters
    assert added.default is None
    assert out.value.get("__snapshot") == "true"


def test_add_fields_prefix() -> None:
    out = smt(add_fields="op,source.db", add_fields_prefix="meta_").apply(create())
    assert out is not None
    assert [f.name for f in out.value_schema.fields][-2:] == ["meta_op", "meta_source_db"]
    assert out.value.get("meta_source_db") == "inventory"


def test_rewrite_puts_deleted_before_the_added_fields_and_adds_them_to_deletes() -> None:
    transform = smt(delete_tombstone_handling_mode="rewrite", add_fields="op,lsn")
    expected = rewritten_schema(("__op", OPTIONAL_STRING_SCHEMA), ("__lsn", OPTIONAL_INT64_SCHEMA))
    out = transform.apply(delete())
    assert out is not None
    assert out.value_schema == expected
    assert out.value == Struct(
        expected,
        {"id": 1, "name": "Anne", "country": "NL", "__deleted": "true", "__op": "d", "__lsn": dbz.LSN},
    )


def test_add_fields_are_not_added_to_null_deletes() -> None:
    out = smt(delete_tombstone_handling_mode="tombstone", add_fields="op").apply(delete())
    assert out is not None and out.value is None and out.value_schema is dbz.ROW_SCHEMA


def test_unexpected_field_name_is_a_config_error_on_its_key() -> None:
    assert ExtractNewRecordStateConfig.errors_by_key({"add.fields": "op,a:b:c"}) == {
        "add.fields": ["Invalid value op,a:b:c for configuration add.fields: Unexpected field name: a:b:c"]
    }
    assert ExtractNewRecordStateConfig.errors_by_key({"add.headers": "x:y:z"}) == {
        "add.headers": ["Invalid value x:y:z for configuration add.headers: Unexpected field name: x:y:z"]
    }


# -- replace.null.with.default ----------------------------------------------------------------


def test_rewrite_fills_null_fields_with_their_default_unless_told_not_to() -> None:
    record = dbz.event("c", after=dbz.row(1, None, None))
    out = mode("rewrite").apply(record)
    assert out is not None
    assert out.value.get("country") == "NL"  # the column default
    assert out.value.get("name") is None  # no default: stays null
    kept = smt(delete_tombstone_handling_mode="rewrite", replace_null_with_default="false").apply(record)
    assert kept is not None and kept.value.get("country") is None


def test_without_rewrite_the_row_is_not_touched_by_defaults() -> None:
    record = dbz.event("c", after=dbz.row(1, None, None))
    for transform in (mode("tombstone"), smt(add_fields="op")):
        out = transform.apply(record)
        assert out is not None and out.value.get("country") is None


# -- add.headers ------------------------------------------------------------------------------


def test_add_headers_copy_envelope_metadata_with_optional_schemas() -> None:
    existing = Header("trace", "abc", STRING_SCHEMA)
    record = dbz.event("u", after=dbz.row(1), headers=(existing,))
    out = smt(add_headers="op,source.ts_ms,lsn:position,nope").apply(record)
    assert out is not None
    assert out.headers == (
        existing,
        Header("__op", "u", OPTIONAL_STRING_SCHEMA),
        Header("__source_ts_ms", dbz.SOURCE_TS_MS, OPTIONAL_INT64_SCHEMA),
        Header("__position", dbz.LSN, OPTIONAL_INT64_SCHEMA),
    )
    assert out.value_schema is dbz.ROW_SCHEMA  # headers do not change the value


def test_add_headers_prefix_and_headers_on_a_rewritten_delete() -> None:
    transform = smt(delete_tombstone_handling_mode="rewrite", add_headers="op", add_headers_prefix="dbz.")
    out = transform.apply(delete())
    assert out is not None
    assert out.headers == (Header("dbz.op", "d", OPTIONAL_STRING_SCHEMA),)


def test_a_kept_tombstone_gets_only_the_op_header_as_d() -> None:
    transform = smt(
        delete_tombstone_handling_mode="rewrite-with-tombstone", add_headers="op,lsn,source.ts_ms"
    )
    out = transform.apply(dbz.tombstone(1))
    assert out is not None
    assert out.value is None and out.key == dbz.key(1)
    assert out.headers == (Header("__op", "d", STRING_SCHEMA),)


def test_headers_are_not_added_to_non_envelope_records() -> None:
    heartbeat = dbz.heartbeat()
    assert smt(add_headers="op").apply(heartbeat) is heartbeat


# -- route.by.field ---------------------------------------------------------------------------


def test_route_by_field_takes_the_topic_from_after() -> None:
    out = smt(route_by_field="name").apply(dbz.event("c", after=dbz.row(1, "customers_anne")))
    assert out is not None and out.topic == "customers_anne"


def test_route_by_field_takes_the_topic_from_before_for_deletes() -> None:
    out = smt(route_by_field="country", delete_tombstone_handling_mode="rewrite").apply(delete())
    assert out is not None and out.topic == "NL"
    null_value = smt(route_by_field="country", delete_tombstone_handling_mode="tombstone").apply(delete())
    assert null_value is not None and null_value.topic == "NL"


@pytest.mark.parametrize("name", [None, "", "   "])
def test_route_by_field_keeps_the_topic_for_null_or_blank(name: str | None) -> None:
    out = smt(route_by_field="name").apply(dbz.event("c", after=dbz.row(1, name)))
    assert out is not None and out.topic == dbz.TOPIC


def test_route_by_field_errors_for_a_missing_or_non_string_field() -> None:
    with pytest.raises(DataError, match="missing is not a valid field name"):
        smt(route_by_field="missing").apply(create())
    with pytest.raises(DataError, match="Field 'id' is not of type STRING"):
        smt(route_by_field="id").apply(create())


# -- without schemas (JsonConverter schemas.enable=false) ---------------------------------------


def as_map(record: SourceRecord) -> SourceRecord:
    return dbz.schemaless(record)


def plain_row(
    id: int = 1, name: str | None = "Anne", country: str | None = "NL", **extra: Any
) -> dict[str, Any]:
    return {"id": id, "name": name, "country": country, **extra}


def test_schemaless_upsert_becomes_the_after_map() -> None:
    out = mode("tombstone").apply(as_map(create()))
    assert out is not None
    assert (out.value, out.value_schema, out.key) == (plain_row(), None, {"id": 1})


def test_schemaless_rewrite_and_added_fields() -> None:
    transform = smt(delete_tombstone_handling_mode="rewrite", add_fields="op,source.ts_ms,id,nope")
    upsert = transform.apply(as_map(create()))
    assert upsert is not None
    assert upsert.value == plain_row(__deleted="false", __op="c", __source_ts_ms=dbz.SOURCE_TS_MS, __id=None)
    deleted = transform.apply(as_map(delete()))
    assert deleted is not None
    assert deleted.value == plain_row(__deleted="true", __op="d", __source_ts_ms=dbz.SOURCE_TS_MS, __id=None)
    assert deleted.value_schema is None


@pytest.mark.parametrize("name", ["tombstone", "delete-to-tombstone"])
def test_schemaless_null_deletes_are_true_tombstones(name: str) -> None:
    out = mode(name).apply(as_map(delete()))
    assert out is not None and (out.value, out.value_schema, out.key) == (None, None, {"id": 1})


def test_schemaless_truncate_drop_and_tombstones() -> None:
    assert mode("rewrite-with-tombstone").apply(as_map(truncate())) is None
    assert mode("drop").apply(as_map(delete())) is None
    assert configured(ExtractNewRecordState, {}).apply(as_map(delete())) is None


def test_schemaless_headers_and_routing() -> None:
    transform = smt(add_headers="op,lsn,nope", route_by_field="name")
    out = transform.apply(as_map(dbz.event("c", after=dbz.row(1, "anne_topic"))))
    assert out is not None
    assert out.headers == (Header("__op", "c", None), Header("__lsn", dbz.LSN, None))
    assert out.topic == "anne_topic"


# -- configuration ----------------------------------------------------------------------------


def test_invalid_modes_in_debeziums_wording() -> None:
    errors = ExtractNewRecordStateConfig.errors_by_key(
        {"delete.tombstone.handling.mode": "erase", "delete.handling.mode": "keep", "drop.tombstones": "yes"}
    )
    assert errors == {
        "delete.tombstone.handling.mode": [
            "Invalid value erase for configuration delete.tombstone.handling.mode: Value must be one of "
            "drop, tombstone, rewrite, rewrite-with-tombstone, delete-to-tombstone"
        ],
        "delete.handling.mode": [
            "Invalid value keep for configuration delete.handling.mode: Value must be one of drop, rewrite, none"
        ],
        "drop.tombstones": [
            "Invalid value yes for configuration drop.tombstones: Expected value to be either true or false"
        ],
    }
    with pytest.raises(ConfigError, match="Value must be one of drop, tombstone"):
        ExtractNewRecordStateConfig.parse({"delete.tombstone.handling.mode": "erase"})


def test_described_keys_and_defaults() -> None:
    described = {k.name: k.default_value for k in ExtractNewRecordStateConfig.describe()}
    assert described == {
        "delete.tombstone.handling.mode": None,
        "drop.tombstones": "true",
        "delete.handling.mode": "drop",
        "route.by.field": "",
        "add.fields.prefix": "__",
        "add.fields": "",
        "add.headers.prefix": "__",
        "add.headers": "",
        "replace.null.with.default": "true",
    }


@pytest.mark.parametrize("name", ["io.debezium.transforms.ExtractNewRecordState", "ExtractNewRecordState"])
def test_registry_resolves_debeziums_class_name(name: str) -> None:
    assert PluginRegistry().resolve(name, ("transformation",)).cls is ExtractNewRecordState
