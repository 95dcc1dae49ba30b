"""The JDBC source's pure logic: queries per mode, task splitting, table filters, type mapping,
offsets and config validation (Confluent's messages)."""

from __future__ import annotations

import datetime
import decimal

import pytest

from connectors.jdbc.dialect import MySqlDialect, PostgresDialect
from connectors.jdbc.querier import Offset, to_offset_time
from connectors.jdbc.source_config import JdbcSourceConfig, Mode, NumericMapping
from connectors.jdbc.source_queries import QueryShape, build_query
from connectors.jdbc.source_schema import Column, mysql_column, numeric_schema, pg_column, row_schema
from connectors.jdbc.tables import (
    TableId,
    decode_tables,
    duplicate_names,
    encode_tables,
    group_partitions,
    select,
)
from connectors.sdk import ConfigError, SchemaType

PG = PostgresDialect()
MY = MySqlDialect()
T = TableId("public", "orders")
URL = "jdbc:postgresql://localhost/db"


def config(**props: str) -> JdbcSourceConfig:
    return JdbcSourceConfig.parse({"connection.url": URL, "mode": "bulk", **props})


# -- queries ---------------------------------------------------------------------------------------
def test_queries_per_mode_postgres() -> None:
    def q(mode: Mode, **kw: object) -> str:
        return build_query(PG, QueryShape(mode, T, **kw), quote=True)  # type: ignore[arg-type]

    assert q(Mode.BULK) == 'SELECT * FROM "public"."orders"'
    assert q(Mode.INCREMENTING, incrementing_column="id") == (
        'SELECT * FROM "public"."orders" WHERE "id" > $1 ORDER BY "id" ASC'
    )
    assert q(Mode.TIMESTAMP, timestamp_columns=("a", "b")) == (
        'SELECT * FROM "public"."orders" WHERE COALESCE("a","b") > $1 AND COALESCE("a","b") < $2 '
        'ORDER BY COALESCE("a","b") ASC'
    )
    assert q(Mode.TIMESTAMP_INCREMENTING, incrementing_column="id", timestamp_columns=("ts",)) == (
        'SELECT * FROM "public"."orders" WHERE "ts" < $1 AND (("ts" = $2 AND "id" > $3) OR "ts" > $4) '
        'ORDER BY "ts","id" ASC'
    )


def test_query_mode_appends_criteria_and_suffix_and_quoting_never() -> None:
    shape = QueryShape(Mode.INCREMENTING, None, "SELECT a, id FROM t", "id", suffix="LIMIT 10")
    assert build_query(MY, shape, quote=False) == "SELECT a, id FROM t WHERE id > %s ORDER BY id ASC LIMIT 10"
    assert build_query(MY, QueryShape(Mode.BULK, T), quote=True) == "SELECT * FROM `public`.`orders`"
    assert build_query(MY, QueryShape(Mode.BULK, T), quote=False) == "SELECT * FROM public.orders"


# -- splitting and filters -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("n", "groups", "sizes"),
    [(10, 3, [4, 3, 3]), (5, 5, [1, 1, 1, 1, 1]), (7, 2, [4, 3]), (3, 1, [3]), (0, 2, [0, 0])],
)
def test_group_partitions_like_kafka(n: int, groups: int, sizes: list[int]) -> None:
    chunks = group_partitions(list(range(n)), groups)
    assert [len(c) for c in chunks] == sizes
    assert [x for c in chunks for x in c] == list(range(n))  # contiguous, in order


def test_tables_round_trip_through_the_task_config() -> None:
    tables = [TableId("s", "a,b"), TableId("s", "c")]
    assert decode_tables(encode_tables(tables)) == tables
    assert decode_tables("") == []


def test_whitelist_blacklist_exact_names_and_include_regexes() -> None:
    tables = [TableId("public", "orders"), TableId("public", "order_lines"), TableId("other", "Orders")]
    assert select(tables, config(**{"table.whitelist": "orders"}), '"') == [tables[0]]  # bare name
    assert select(tables, config(**{"table.whitelist": "public.orders"}), '"') == [tables[0]]
    assert select(tables, config(**{"table.whitelist": '"other"."Orders"'}), '"') == [tables[2]]
    assert select(tables, config(**{"table.whitelist": "ORDERS"}), '"') == []  # exact, case-sensitive
    assert select(tables, config(**{"table.blacklist": "orders"}), '"') == tables[1:]
    assert select(tables, config(**{"table.include.list": "public\\.order.*"}), '"') == tables[:2]
    assert select(tables, config(**{"table.include.list": "order.*"}), '"') == []  # full match on the FQN
    kept = select(tables, config(**{"table.include.list": ".*", "table.exclude.list": ".*lines"}), '"')
    assert kept == [tables[0], tables[2]]
    assert select(tables, config(**{"table.exclude.list": ".*"}), '"') == tables  # only with include
    assert duplicate_names([TableId("a", "x"), TableId("b", "x"), TableId("b", "y")]) == ["x"]


# -- config ----------------------------------------------------------------------------------------
def test_config_messages() -> None:
    def errors(**props: str) -> dict[str, list[str]]:
        return JdbcSourceConfig.errors_by_key({"connection.url": URL, **props})

    assert errors()["mode"] == ["Invalid value null for configuration mode: Query mode must be specified"]
    assert errors(mode="")["mode"] == ["Invalid value  for configuration mode: Query mode must be specified"]
    assert "String must be one of" in errors(mode="BULK")["mode"][0]  # case-sensitive
    assert (
        "jdbc:sqlserver URLs are not supported"
        in errors(mode="bulk", **{"connection.url": "jdbc:sqlserver://h;databaseName=x"})["connection.url"][0]
    )
    both = errors(mode="bulk", **{"table.whitelist": "a", "table.blacklist": "b"})
    assert "exclusive" in both["table.blacklist"][0]
    assert "query" in errors(mode="bulk", query="SELECT 1", **{"table.whitelist": "a"})
    assert "timestamp.column.name" in errors(mode="timestamp")
    assert "incrementing.column.name" in errors(mode="incrementing", query="SELECT 1")
    assert (
        "not a valid regular expression"
        in errors(mode="bulk", **{"table.include.list": "("})["table.include.list"][0]
    )
    assert "topic.prefix" in errors(mode="bulk", **{"topic.prefix": "bad prefix"})
    assert "db.timezone" in errors(mode="bulk", **{"db.timezone": "Mars/Olympus"})
    assert config(**{"numeric.mapping": "BEST_FIT"}).numeric is NumericMapping.BEST_FIT
    assert config(**{"numeric.precision.mapping": "true"}).numeric is NumericMapping.PRECISION_ONLY
    assert config().numeric is NumericMapping.NONE
    url = config(**{"connection.url": URL + "?user=u&password=p", "connection.password": "q"}).url
    assert (url.user, url.password) == ("u", "q")
    with pytest.raises(ConfigError, match="Query mode must be specified"):
        JdbcSourceConfig.parse({"connection.url": URL, "mode": ""})


# -- types -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("p", "s", "mapping", "expected"),
    [
        (2, 0, NumericMapping.PRECISION_ONLY, SchemaType.INT8),
        (4, 0, NumericMapping.PRECISION_ONLY, SchemaType.INT16),
        (9, 0, NumericMapping.PRECISION_ONLY, SchemaType.INT32),
        (18, 0, NumericMapping.PRECISION_ONLY, SchemaType.INT64),
        (19, 0, NumericMapping.PRECISION_ONLY, "decimal"),
        (10, 2, NumericMapping.PRECISION_ONLY, "decimal"),
        (10, 2, NumericMapping.BEST_FIT, SchemaType.FLOAT64),
        (10, -2, NumericMapping.BEST_FIT, SchemaType.INT64),
        (30, 2, NumericMapping.BEST_FIT, "decimal"),
        (30, 2, NumericMapping.BEST_FIT_EAGER_DOUBLE, SchemaType.FLOAT64),
        (30, 0, NumericMapping.BEST_FIT_EAGER_DOUBLE, "decimal"),
        (5, 0, NumericMapping.NONE, "decimal"),
    ],
)
def test_numeric_mapping(p: int, s: int, mapping: NumericMapping, expected: object) -> None:
    schema, convert = numeric_schema(Column("n", "NUMERIC", True, p, s), mapping, "postgresql", True)
    if expected == "decimal":
        assert schema.name == "org.apache.kafka.connect.data.Decimal"
        assert schema.parameters == {"scale": str(s), "connect.decimal.precision": str(p)}
        assert convert is None
    else:
        assert schema.type is expected and schema.optional
        assert convert is not None and convert(decimal.Decimal("12")) == 12


def test_unconstrained_postgres_numeric_is_a_decimal_of_scale_127() -> None:
    column = pg_column("n", "numeric", -1)
    for mapping in NumericMapping:
        schema, _ = numeric_schema(column, mapping, "postgresql", True)
        assert schema.parameters == {"scale": "127", "connect.decimal.precision": "0"}
    assert pg_column("n", "numeric", ((10 << 16) | 2) + 4).precision == 10


def test_row_schema_postgres_types_and_skipped_columns(caplog: pytest.LogCaptureFixture) -> None:
    columns = [
        pg_column("id", "int4", nullable=False),
        pg_column("flag", "bool"),
        pg_column("b1", "bit", 1),
        pg_column("doc", "jsonb"),
        pg_column("uid", "uuid"),
        pg_column("day", "date"),
        pg_column("at", "timestamp"),
        pg_column("tags", "_text"),
        pg_column("raw", "bytea"),
    ]
    rows = row_schema(
        columns, name="t", mapping=NumericMapping.NONE, dialect="postgresql", zone=None, where="s.t"
    )
    assert rows.schema.name == "t"
    assert [(f.name, f.schema.type, f.schema.optional) for f in rows.schema.fields] == [
        ("id", SchemaType.INT32, False),
        ("flag", SchemaType.BOOLEAN, True),
        ("b1", SchemaType.BOOLEAN, True),
        ("doc", SchemaType.STRING, True),
        ("uid", SchemaType.STRING, True),
        ("day", SchemaType.INT32, True),
        ("at", SchemaType.INT64, True),
        ("raw", SchemaType.BYTES, True),
    ]
    assert "column tags in s.t is not supported" in caplog.text
    import uuid

    u = uuid.uuid4()
    struct = rows.struct((1, True, None, "{}", u, datetime.date(2024, 1, 2), None, ["x"], b"\x00"))
    assert struct.values["uid"] == str(u) and struct.values["day"] == datetime.date(2024, 1, 2)
    assert "tags" not in struct.values


def test_timestamps_without_zone_are_read_in_db_timezone() -> None:
    import zoneinfo

    zone = zoneinfo.ZoneInfo("Europe/Berlin")
    rows = row_schema(
        [pg_column("at", "timestamp")],
        name=None,
        mapping=NumericMapping.NONE,
        dialect="postgresql",
        zone=zone,
        where="q",
    )
    value = rows.struct((datetime.datetime(2024, 1, 1, 12, 0),)).values["at"]
    assert value == datetime.datetime(2024, 1, 1, 11, 0, tzinfo=datetime.UTC)
    assert rows.schema.name is None


def test_mysql_integer_types_widen_when_unsigned() -> None:
    def kind(code: int, **kw: object) -> object:
        args: dict[str, object] = {
            "length": 11,
            "scale": 0,
            "nullable": True,
            "unsigned": False,
            "binary": False,
        }
        args.update(kw)
        column = mysql_column("c", code, **args)  # type: ignore[arg-type]
        rs = row_schema(
            [column], name=None, mapping=NumericMapping.NONE, dialect="mysql", zone=None, where="t"
        )
        return rs.schema.fields[0].schema.type if rs.schema.fields else None

    assert kind(1, length=1) is SchemaType.BOOLEAN  # TINYINT(1)
    assert kind(1, length=4) is SchemaType.INT8
    assert kind(1, length=3, unsigned=True) is SchemaType.INT16
    assert kind(3) is SchemaType.INT32
    assert kind(3, unsigned=True) is SchemaType.INT64
    assert kind(8) is SchemaType.INT64
    assert kind(252, binary=True) is SchemaType.BYTES
    assert kind(252) is SchemaType.STRING
    assert kind(255) is None  # geometry: left out


# -- offsets ---------------------------------------------------------------------------------------
def test_offsets_in_confluent_form() -> None:
    ms, nanos = to_offset_time(
        datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.UTC), datetime.UTC
    )
    assert (ms, nanos) == (1714979289123, 123456000)
    offset = Offset(42, ms, nanos)
    assert offset.to_map() == {"incrementing": 42, "timestamp": 1714979289123, "timestamp_nanos": 123456000}
    assert Offset.from_map(offset.to_map()) == offset
    assert Offset.from_map(offset.to_map()).timestamp == datetime.datetime(
        2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.UTC
    )
    assert Offset(incrementing=3).to_map() == {"incrementing": 3}
    assert Offset.from_map(None) == Offset()
