"""Statement building, type mapping and config rules of the JDBC sink (no database)."""

from __future__ import annotations

import pytest

from connectors.jdbc.dialect import MySqlDialect, PostgresDialect
from connectors.jdbc.sink_config import DEBEZIUM_CLASS, InsertMode, JdbcSinkConfig, PkMode
from connectors.jdbc.sink_fields import Column, shape_of
from connectors.jdbc.sink_schema import TableId, alter_table, create_table, sql_type
from connectors.jdbc.sink_statements import delete_statement, unnest_statement, write_statement
from connectors.sdk import (
    ConfigError,
    DataError,
    Date,
    Decimal,
    Schema,
    SchemaType,
    SinkRecord,
    Struct,
    Timestamp,
    array_schema,
    struct_schema,
)

PG, MY = PostgresDialect(), MySqlDialect()
URL = "jdbc:postgresql://localhost/db"


def test_postgres_upsert_insert_update_delete() -> None:
    upsert = write_statement(PG, InsertMode.UPSERT, '"t"', ["id"], ["a", "b"], quote=True)
    assert upsert.sql == (
        'INSERT INTO "t" ("id", "a", "b") VALUES ($1, $2, $3) ON CONFLICT ("id") DO UPDATE SET "a"=EXCLUDED."a", '
        '"b"=EXCLUDED."b"'
    )
    keys_only = write_statement(PG, InsertMode.UPSERT, '"t"', ["id"], [], quote=True)
    assert keys_only.sql.endswith('ON CONFLICT ("id") DO NOTHING')
    insert = write_statement(PG, InsertMode.INSERT, "t", ["id"], ["a"], quote=False)
    assert insert.sql == "INSERT INTO t (id, a) VALUES ($1, $2)"
    update = write_statement(PG, InsertMode.UPDATE, '"t"', ["k1", "k2"], ["a"], quote=True)
    assert update.sql == 'UPDATE "t" SET "a" = $1 WHERE "k1" = $2 AND "k2" = $3' and update.key_last
    assert (
        delete_statement(PG, '"t"', ["k1", "k2"], quote=True)
        == 'DELETE FROM "t" WHERE "k1" = $1 AND "k2" = $2'
    )


def test_postgres_casts_for_json_and_uuid() -> None:
    statement = write_statement(
        PG, InsertMode.INSERT, '"t"', ["id"], ["doc"], quote=True, casts=["uuid", "jsonb"]
    )
    assert statement.sql.endswith("VALUES ($1::uuid, $2::jsonb)")
    update = write_statement(
        PG, InsertMode.UPDATE, '"t"', ["id"], ["doc"], quote=True, casts=["uuid", "jsonb"]
    )
    assert update.sql == 'UPDATE "t" SET "doc" = $1::jsonb WHERE "id" = $2::uuid'


def test_postgres_unnest_upsert() -> None:
    sql = unnest_statement(PG, InsertMode.UPSERT, '"t"', ["id"], ["a"], ["bigint", "text"], quote=True)
    assert sql == (
        'INSERT INTO "t" ("id", "a") SELECT * FROM unnest($1::bigint[], $2::text[]) ON CONFLICT ("id") '
        'DO UPDATE SET "a"=EXCLUDED."a"'
    )


def test_mysql_upsert_and_quoting() -> None:
    upsert = write_statement(MY, InsertMode.UPSERT, "`t`", ["id"], ["a"], quote=True)
    assert upsert.sql == "INSERT INTO `t` (`id`, `a`) VALUES (%s, %s) ON DUPLICATE KEY UPDATE `a`=VALUES(`a`)"
    keys_only = write_statement(MY, InsertMode.UPSERT, "`t`", ["id"], [], quote=True)
    assert keys_only.sql.endswith("ON DUPLICATE KEY UPDATE `id`=VALUES(`id`)")


def test_type_mapping() -> None:
    def pg(schema: Schema) -> str:
        return sql_type(PG, Column("c", schema, False), "t")

    def my(schema: Schema, key: bool = False) -> str:
        return sql_type(MY, Column("c", schema, key), "t")

    assert [
        pg(Schema(t)) for t in (SchemaType.INT8, SchemaType.INT32, SchemaType.INT64, SchemaType.FLOAT32)
    ] == [
        "SMALLINT",
        "INT",
        "BIGINT",
        "REAL",
    ]
    assert (
        pg(Decimal.schema(3)) == "DECIMAL"
        and pg(Timestamp.schema()) == "TIMESTAMP"
        and pg(Date.schema()) == "DATE"
    )
    assert pg(array_schema(Schema(SchemaType.STRING))) == "TEXT[]"
    assert pg(Schema(SchemaType.INT64, name="io.debezium.time.MicroTimestamp")) == "BIGINT"
    assert (
        my(Schema(SchemaType.STRING)) == "TEXT" and my(Schema(SchemaType.STRING), key=True) == "VARCHAR(256)"
    )
    assert (
        my(Schema(SchemaType.BYTES)) == "BLOB" and my(Schema(SchemaType.BYTES), key=True) == "VARBINARY(1024)"
    )
    assert my(Schema(SchemaType.BOOLEAN)) == "TINYINT" and my(Decimal.schema(4)) == "DECIMAL(65,4)"
    assert my(Timestamp.schema()) == "DATETIME(3)" and my(Schema(SchemaType.FLOAT64)) == "DOUBLE"
    with pytest.raises(DataError, match="no column type"):
        pg(struct_schema([("x", Schema(SchemaType.INT32))]))


def test_create_and_alter() -> None:
    columns = [
        Column("id", Schema(SchemaType.INT64), True),
        Column("name", Schema(SchemaType.STRING, optional=True), False),
        Column("n", Schema(SchemaType.INT32, default=5), False),
    ]
    assert create_table(PG, TableId.parse("s.t"), columns, quote=True) == (
        'CREATE TABLE "s"."t" (\n"id" BIGINT NOT NULL,\n"name" TEXT NULL,\n"n" INT DEFAULT 5 NOT NULL,\n'
        'PRIMARY KEY("id"))'
    )
    assert (
        alter_table(MY, TableId.parse("t"), columns[1:2], quote=True)
        == "ALTER TABLE `t` ADD `name` TEXT NULL"
    )
    with pytest.raises(DataError, match="not optional and does not have a default"):
        alter_table(PG, TableId.parse("t"), [Column("x", Schema(SchemaType.INT32), False)], quote=True)


def _config(**props: str) -> JdbcSinkConfig:
    return JdbcSinkConfig.parse({"connection.url": URL, **props})


def test_pk_modes_and_column_order() -> None:
    key = struct_schema([("z", Schema(SchemaType.INT32)), ("id", Schema(SchemaType.INT32))])
    value = struct_schema([("id", Schema(SchemaType.INT32)), ("v", Schema(SchemaType.STRING))])
    record = SinkRecord(
        "t", Struct(value, {"id": 1, "v": "x"}), value, Struct(key, {"z": 9, "id": 1}), key, 0
    )
    shape = shape_of(record, _config(**{"pk.mode": "record_key"}), "t")
    assert shape.key_names == ("z", "id") and shape.value_names == ("v",)
    assert [c.name for c in shape.columns] == ["id", "v", "z"]  # value order, then key-only sorted
    assert shape.row(record) == (9, 1, "x")
    kafka = shape_of(record, _config(**{"pk.mode": "kafka"}), "t")
    assert kafka.names[:3] == ("__connect_topic", "__connect_partition", "__connect_offset")
    by_value = shape_of(record, _config(**{"pk.mode": "record_value"}), "t")
    assert by_value.key_names == ("id", "v") and by_value.value_names == ()
    whitelist = shape_of(
        record, _config(**{"pk.mode": "record_value", "pk.fields": "id", "fields.whitelist": "id"}), "t"
    )
    assert whitelist.names == ("id",)
    with pytest.raises(ConfigError, match=r"pk.fields nope not found in the record key"):
        shape_of(record, _config(**{"pk.mode": "record_key", "pk.fields": "nope"}), "t")
    primitive = SinkRecord("t", Struct(value, {"id": 1, "v": "x"}), value, 5, Schema(SchemaType.INT64), 0)
    with pytest.raises(ConfigError, match="exactly one column"):
        shape_of(primitive, _config(**{"pk.mode": "record_key"}), "t")


def test_config_rules() -> None:
    with pytest.raises(ConfigError, match="record_key' when delete support is enabled"):
        _config(**{"delete.enabled": "true", "pk.mode": "record_value"})
    with pytest.raises(ConfigError, match="exactly 3"):
        _config(**{"pk.mode": "kafka", "pk.fields": "a,b"})
    assert _config(**{"insert.mode": "UPSERT", "pk.mode": "Record_Key"}).pk_mode is PkMode.RECORD_KEY
    url = _config(**{"connection.user": "u", "connection.password": "p"}).url()
    assert (url.user, url.password) == ("u", "p")


def test_debezium_keys_are_mapped_and_unsupported_ones_listed() -> None:
    config = JdbcSinkConfig.parse(
        {
            "connector.class": DEBEZIUM_CLASS,
            "connection.url": URL,
            "connection.username": "app",
            "primary.key.mode": "record_key",
            "insert.mode": "upsert",
            "schema.evolution": "basic",
            "batch.size": "100",
        }
    )
    assert config.connection_user == "app" and config.pk_mode is PkMode.RECORD_KEY
    assert config.auto_create and config.auto_evolve and config.batch_size == 100
    with pytest.raises(ConfigError, match=r"not supported.*collection.name.format, hibernate.c3p0.max_size"):
        JdbcSinkConfig.parse(
            {
                "connector.class": DEBEZIUM_CLASS,
                "connection.url": URL,
                "hibernate.c3p0.max_size": "3",
                "collection.name.format": "x",
            }
        )
