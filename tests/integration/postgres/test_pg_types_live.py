"""A real row holding every supported type, read both ways (pgoutput and COPY), converted once.

The streaming text (pgoutput 't' columns) and the snapshot text (COPY ... TO STDOUT) must be
identical, so one converter serves both paths; the converted values are checked against values
worked out from the reference.
"""

from __future__ import annotations

import json
import logging
import struct
from decimal import Decimal
from typing import Any

import pytest

from connectors.postgres.pgoutput import Insert, PgOutputDecoder, Relation, Update
from connectors.postgres.types import (
    BUILTIN_TYPES,
    SESSION_SETTINGS,
    CopyTextParser,
    HStoreHandlingMode,
    TypeRegistry,
    ValueConverters,
    ValueOptions,
    copy_select,
)
from connectors.sdk import Struct, validate_value
from tests.support.pg_capture import Capture

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

# (column, SQL type, SQL literal, expected Connect value under the default options)
COLUMNS: list[tuple[str, str, str, Any]] = [
    ("id", "int4 PRIMARY KEY", "1", 1),
    ("c_int2", "int2", "-32768", -32768),
    ("c_int8", "int8", "9223372036854775807", 2**63 - 1),
    ("c_oid", "oid", "4294967295", 4294967295),
    ("c_f4", "float4", "0.1", 0.1),
    ("c_f8", "float8", "-1.5e300", -1.5e300),
    ("c_bool", "bool", "true", True),
    ("c_num", "numeric(10,2)", "10.5", Decimal("10.50")),
    ("c_numv", "numeric", "1.500", {"scale": 1, "value": b"\x0f"}),
    ("c_money", "money", "-1234.5", Decimal("-1234.50")),
    (
        "c_text",
        "text",
        "E'tab\\there \"quoted\" back\\\\slash\\nnewline zoë'",
        'tab\there "quoted" back\\slash\nnewline zoë',
    ),
    ("c_varchar", "varchar(10)", "'abc'", "abc"),
    ("c_char", "char(4)", "'ab'", "ab  "),
    ("c_name", "name", "'pg_class'", "pg_class"),
    ("c_date", "date", "'2024-01-02'", 19724),
    ("c_date_bc", "date", "'0001-01-01 BC'", -719528),
    ("c_time", "time", "'03:04:05.123456'", 11045123456),
    ("c_time3", "time(3)", "'03:04:05.123456'", 11045123),  # rounded by the server to .123
    ("c_timetz", "timetz", "'03:04:05.12+05:30'", "21:34:05.12Z"),
    ("c_ts", "timestamp", "'2024-01-02 03:04:05.123456'", 1704164645123456),
    ("c_ts3", "timestamp(3)", "'2024-01-02 03:04:05.123'", 1704164645123),
    ("c_ts_inf", "timestamp", "'infinity'", 9223372036825200000),
    ("c_tstz", "timestamptz", "'2024-01-02 03:04:05.1234+05:30'", "2024-01-01T21:34:05.123400Z"),
    ("c_interval", "interval", "'1 year 2 months 3 days 04:05:06.789'", 37_091_106_789_000),
    ("c_json", "json", '\'{"b": 1,  "a": [1, 2]}\'', '{"b": 1,  "a": [1, 2]}'),
    ("c_jsonb", "jsonb", '\'{"b": 1,  "a": [1, 2]}\'', '{"a": [1, 2], "b": 1}'),
    ("c_uuid", "uuid", "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
    ("c_bytea", "bytea", "'\\x0102fbff'", b"\x01\x02\xfb\xff"),
    ("c_xml", "xml", "'<a>1</a>'", "<a>1</a>"),
    ("c_inet", "inet", "'192.168.0.1'", "192.168.0.1"),
    ("c_cidr", "cidr", "'10.0.0.0/8'", "10.0.0.0/8"),
    ("c_macaddr", "macaddr", "'08:00:2B:01:02:03'", "08:00:2b:01:02:03"),
    ("c_bit", "bit(3)", "B'101'", b"\x05"),
    ("c_bit1", "bit(1)", "B'1'", True),
    ("c_varbit", "varbit(10)", "B'1000000001'", b"\x01\x02"),
    ("c_range", "int4range", "'[1,5]'", "[1,6)"),
    ("c_int_arr", "int4[]", "'{1,NULL,3}'", [1, None, 3]),
    (
        "c_text_arr",
        "text[]",
        "ARRAY['a,b', NULL, 'NULL', '', 'q\"uote']",
        ["a,b", None, "NULL", "", 'q"uote'],
    ),
    ("c_num_arr", "numeric(5,1)[]", "'{1.5,NULL}'", [Decimal("1.5"), None]),
    (
        "c_tstz_arr",
        "timestamptz[]",
        "ARRAY['2024-01-01 00:00+00'::timestamptz]",
        ["2024-01-01T00:00:00.000000Z"],
    ),
    ("c_bytea_arr", "bytea[]", "ARRAY['\\x01'::bytea]", [b"\x01"]),
    ("c_mood", "{schema}.mood", "'happy'", "happy"),
    ("c_mood_arr", "{schema}.mood[]", "'{sad,happy}'", ["sad", "happy"]),
    ("c_price", "{schema}.price", "3.1", Decimal("3.10")),
    (
        "c_point",
        "point",
        "'(1.5,-2)'",
        {"x": 1.5, "y": -2.0, "wkb": struct.pack("<BIdd", 1, 1, 1.5, -2.0), "srid": None},
    ),
    ("c_lsn", "pg_lsn", "'16/B374D848'", "16/B374D848"),  # no mapping here: text, with a warning
]


async def test_every_supported_type_streamed_and_copied(
    postgres_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with Capture(postgres_dsn, server_settings=dict(SESSION_SETTINGS)) as cap:
        s = cap.schema
        await cap.execute(f"CREATE TYPE {s}.mood AS ENUM ('sad', 'ok', 'happy')")
        await cap.execute(f"CREATE DOMAIN {s}.price AS numeric(10,2)")
        ddl = ", ".join(f"{name} {sql_type.format(schema=s)}" for name, sql_type, _, _ in COLUMNS)
        await cap.execute(f"CREATE TABLE {s}.every ({ddl})")
        await cap.start()
        names = [name for name, _, _, _ in COLUMNS]
        literals = ", ".join(literal for _, _, literal, _ in COLUMNS)
        await cap.execute(f"INSERT INTO {s}.every ({', '.join(names)}) VALUES ({literals})")
        await cap.execute(f"INSERT INTO {s}.every (id) VALUES (2)")
        decoder = PgOutputDecoder()
        messages = [decoder.decode(data) for _, _, data in await cap.changes()]

        copied: list[list[str | None]] = []
        parser = CopyTextParser()

        async def sink(chunk: bytes) -> None:
            copied.extend(parser.feed(chunk))

        await cap.conn.copy_from_query(copy_select(f'"{s}"."every"', names), output=sink)
        parser.close()
        copied.sort(key=lambda row: int(row[0] or 0))

        relation = next(m for m in messages if isinstance(m, Relation))
        registry = TypeRegistry()
        await registry.load(cap.conn, [column.type_oid for column in relation.columns])

    streamed = [m.new for m in messages if isinstance(m, Insert)]
    # One text form for both paths: the snapshot converts exactly what streaming converts.
    assert [list(row) for row in streamed] == copied
    assert copied[1] == ["2"] + [None] * (len(COLUMNS) - 1)

    converters = ValueConverters(ValueOptions(), registry)
    with caplog.at_level(logging.WARNING, logger="connectors.postgres.types"):
        per_column = [
            converters.for_column(c.type_oid, c.type_modifier, optional=True, column=f"{s}.every.{c.name}")
            for c in relation.columns
        ]
    assert [r.getMessage() for r in caplog.records] == [
        f"PostgreSQL type pg_catalog.pg_lsn (column {s}.every.c_lsn) has no Debezium mapping; "
        "its values are sent as their text form (string)"
    ]
    enum_schema = per_column[names.index("c_mood")].schema
    assert (enum_schema.name, enum_schema.parameters) == (
        "io.debezium.data.Enum",
        {"allowed": "sad,ok,happy"},
    )

    for row in streamed:
        for column, converter, text in zip(relation.columns, per_column, row, strict=True):
            converted = converter.convert(text)
            validate_value(converter.schema, converted)
            if row[0] == "2" and column.name != "id":
                assert converted is None, column.name
    full = {
        c.name: conv.convert(text)
        for c, conv, text in zip(relation.columns, per_column, streamed[0], strict=True)
    }
    for name, _, _, expected in COLUMNS:
        got = full[name]
        if isinstance(got, Struct):
            got = got.values
        assert got == expected, name


async def test_toasted_json_is_replaced_by_the_placeholder(postgres_dsn: str) -> None:
    async with Capture(postgres_dsn, server_settings=dict(SESSION_SETTINGS)) as cap:
        s = cap.schema
        await cap.execute(f"CREATE TABLE {s}.docs (id int PRIMARY KEY, title text, doc jsonb, tags text[])")
        await cap.execute(f"ALTER TABLE {s}.docs ALTER COLUMN doc SET STORAGE EXTERNAL")
        await cap.execute(f"ALTER TABLE {s}.docs ALTER COLUMN tags SET STORAGE EXTERNAL")
        await cap.start()
        await cap.execute(
            f"INSERT INTO {s}.docs SELECT 1, 't', jsonb_build_object('k', repeat('v', 5000)), "
            "array_fill('tag'::text, ARRAY[2000])"
        )
        await cap.execute(f"UPDATE {s}.docs SET title = 'u'")
        decoder = PgOutputDecoder()
        messages = [decoder.decode(data) for _, _, data in await cap.changes()]

    update = next(m for m in messages if isinstance(m, Update))
    converters = ValueConverters()
    values = [
        converters.for_column(c.type_oid, c.type_modifier).convert(text)
        for c, text in zip(update.relation.columns, update.new, strict=True)
    ]
    assert values == [1, "u", "__debezium_unavailable_value", ["__debezium_unavailable_value"]]


async def test_builtin_type_table_matches_the_server(postgres_dsn: str) -> None:
    async with Capture(postgres_dsn) as cap:
        rows = await cap.conn.fetch(
            "SELECT oid, typname, CASE WHEN typcategory = 'A' THEN typelem ELSE 0 END AS elem "
            "FROM pg_type WHERE oid = ANY($1::oid[])",
            list(BUILTIN_TYPES),
        )
    found = {row["oid"]: (row["typname"], row["elem"]) for row in rows}
    assert found == {oid: (t.name, t.element_oid) for oid, t in BUILTIN_TYPES.items()}


async def test_extension_types_hstore_and_citext(postgres_dsn: str) -> None:
    async with Capture(postgres_dsn, server_settings=dict(SESSION_SETTINGS)) as cap:
        s = cap.schema
        installed = {
            row["extname"]
            for row in await cap.conn.fetch(
                "SELECT extname FROM pg_extension WHERE extname IN ('hstore', 'citext')"
            )
        }
        if installed:
            pytest.skip(f"{sorted(installed)} already installed in another schema of the shared database")
        # Installed into this test's schema, so dropping the schema removes them again.
        await cap.execute(f"CREATE EXTENSION hstore SCHEMA {s}")
        await cap.execute(f"CREATE EXTENSION citext SCHEMA {s}")
        await cap.execute(f"CREATE TABLE {s}.ext (id int PRIMARY KEY, h {s}.hstore, c {s}.citext)")
        await cap.start()
        await cap.execute(
            f"""INSERT INTO {s}.ext VALUES (1, 'a=>1, b=>NULL, "q\\"k"=>"v\\\\x", "é"=>"ü"', 'MiXed')"""
        )
        decoder = PgOutputDecoder()
        messages = [decoder.decode(data) for _, _, data in await cap.changes()]
        relation = next(m for m in messages if isinstance(m, Relation))
        registry = TypeRegistry()
        await registry.load(cap.conn, [c.type_oid for c in relation.columns])
        await cap.execute("DROP EXTENSION hstore, citext CASCADE")

    row = next(m for m in messages if isinstance(m, Insert)).new
    json_mode = ValueConverters(ValueOptions(), registry)
    h = json_mode.for_column(relation.columns[1].type_oid)
    assert (h.schema.name, h.schema.type.value) == ("io.debezium.data.Json", "string")
    assert json.loads(h.convert(row[1])) == {"a": "1", "b": None, 'q"k': "v\\x", "é": "ü"}
    map_mode = ValueConverters(ValueOptions(hstore_handling_mode=HStoreHandlingMode.MAP), registry)
    m = map_mode.for_column(relation.columns[1].type_oid)
    assert m.schema.type.value == "map"
    assert m.convert(row[1]) == {"a": "1", "b": None, 'q"k': "v\\x", "é": "ü"}
    validate_value(m.schema, m.convert(row[1]))
    c = json_mode.for_column(relation.columns[2].type_oid)
    assert (c.schema.type.value, c.schema.name, c.convert(row[2])) == ("string", None, "MiXed")
