"""PostgresConfig: Debezium's keys, defaults, legacy names and errors (reference §2.1-2.6)."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.postgres.config import (
    AutoCreateMode,
    BinaryHandlingMode,
    PostgresConfig,
    SnapshotMode,
    apply_legacy_names,
)
from connectors.postgres.connector import PostgresConnector
from connectors.sdk import ConfigError, ConfigType

BASE = {
    "database.hostname": "db.example.com",
    "database.user": "penstock",
    "database.dbname": "inventory",
    "topic.prefix": "dbserver1",
}


def errors(props: dict[str, Any]) -> dict[str, list[str]]:
    return PostgresConfig.errors_by_key(props)


def test_defaults_are_debeziums() -> None:
    c = PostgresConfig.parse(BASE)
    assert c.database_port == 5432
    assert c.database_sslmode.value == "prefer"
    assert c.plugin_name.value == "pgoutput"  # deliberate: Debezium defaults to decoderbufs
    assert c.slot_name == "debezium" and not c.slot_drop_on_stop
    assert (c.slot_max_retries, c.slot_retry_delay_ms) == (6, 10000)
    assert c.publication_name == "dbz_publication"
    assert c.publication_autocreate_mode is AutoCreateMode.ALL_TABLES
    assert c.snapshot_mode is SnapshotMode.INITIAL
    assert c.tombstones_on_delete and c.heartbeat_interval_ms == 0 and c.heartbeat_action_query is None
    assert c.decimal_handling_mode.value == "precise" and c.time_precision_mode.value == "adaptive"
    assert c.binary_handling_mode is BinaryHandlingMode.BYTES and c.interval_handling_mode.value == "numeric"
    assert c.skipped_operation_codes == {"t"}
    assert c.status_update_interval_ms == 10000
    assert (c.max_batch_size, c.max_queue_size, c.poll_interval_ms, c.snapshot_fetch_size) == (
        2048,
        8192,
        500,
        10240,
    )
    assert c.source_partition == {"server": "dbserver1"}
    assert c.topic_for("public", "customers") == "dbserver1.public.customers"
    assert c.heartbeat_topic == "__debezium-heartbeat.dbserver1"


def test_describe_lists_every_key_with_debezium_types() -> None:
    keys = {k.name: k for k in PostgresConfig.describe()}
    wanted = (
        "topic.prefix database.hostname database.port database.user database.password database.dbname "
        "database.sslmode database.sslcert database.sslkey database.sslpassword database.sslrootcert "
        "database.tcpKeepAlive database.initial.statements database.query.timeout.ms plugin.name slot.name "
        "slot.drop.on.stop slot.max.retries slot.retry.delay.ms publication.name publication.autocreate.mode "
        "snapshot.mode schema.include.list schema.exclude.list table.include.list table.exclude.list "
        "column.include.list column.exclude.list table.ignore.builtin tombstones.on.delete heartbeat.interval.ms "
        "heartbeat.action.query decimal.handling.mode time.precision.mode binary.handling.mode "
        "interval.handling.mode skipped.operations status.update.interval.ms max.batch.size max.queue.size "
        "poll.interval.ms snapshot.fetch.size topic.heartbeat.prefix message.key.columns"
    )
    for name in wanted.split():
        assert name in keys, name
    assert keys["database.password"].type is ConfigType.PASSWORD
    assert keys["database.sslpassword"].type is ConfigType.PASSWORD
    assert keys["database.port"].type is ConfigType.INT
    assert keys["slot.retry.delay.ms"].type is ConfigType.LONG
    assert keys["table.include.list"].type is ConfigType.LIST
    assert (
        keys["skipped.operations"].type is ConfigType.LIST and keys["skipped.operations"].default_value == "t"
    )
    assert keys["topic.prefix"].required and keys["database.hostname"].required
    assert not keys["database.password"].required
    assert keys["snapshot.mode"].default_value == "initial"


def test_required_keys_in_kafka_wording() -> None:
    found = errors({})
    for key in ("topic.prefix", "database.hostname", "database.user", "database.dbname"):
        assert found[key] == [f'Missing required configuration "{key}" which has no default value.']


def test_database_server_name_stands_in_for_topic_prefix() -> None:
    props = {k: v for k, v in BASE.items() if k != "topic.prefix"}
    c = PostgresConfig.parse({**props, "database.server.name": "legacy1"})
    assert c.topic_prefix == "legacy1"
    assert PostgresConfig.parse({**BASE, "database.server.name": "old"}).topic_prefix == "dbserver1"
    assert "topic.prefix" in errors(props)


def test_topic_prefix_characters() -> None:
    assert errors({**BASE, "topic.prefix": "a.b-c_D9"}) == {}
    (message,) = errors({**BASE, "topic.prefix": "db server/1"})["topic.prefix"]
    assert message == (
        "Invalid value db server/1 for configuration topic.prefix: db server/1 has invalid format "
        "(only the underscore, hyphen, dot and alphanumeric characters are allowed)"
    )
    assert "topic.prefix" in errors({**BASE, "topic.prefix": ""})


def test_legacy_filter_names_are_mapped_when_the_new_name_is_absent() -> None:
    c = PostgresConfig.parse({**BASE, "table.whitelist": "public.a", "column.blacklist": "public.a.secret"})
    assert c.table_include_list == ["public.a"] and c.column_exclude_list == ["public.a.secret"]
    c = PostgresConfig.parse({**BASE, "schema.whitelist": "s1", "schema.include.list": "s2"})
    assert c.schema_include_list == ["s2"]  # the new key wins
    assert apply_legacy_names({"table.blacklist": "x"})["table.exclude.list"] == "x"
    mapped = PostgresConfig.parse({**BASE, "truncate.handling.mode": "include"})
    assert mapped.skipped_operation_codes == frozenset()


@pytest.mark.parametrize("kind", ["table", "schema", "column"])
def test_include_and_exclude_together_is_an_error(kind: str) -> None:
    found = errors({**BASE, f"{kind}.include.list": "a", f"{kind}.exclude.list": "b"})
    assert found == {
        f"{kind}.exclude.list": [
            f'Invalid value b for configuration {kind}.exclude.list: "{kind}.include.list" is already specified'
        ]
    }
    legacy = errors({**BASE, f"{kind}.whitelist": "a", f"{kind}.exclude.list": "b"})
    assert f"{kind}.exclude.list" in legacy


def test_filter_lists_must_be_regexes_and_keep_escaped_commas() -> None:
    (message,) = errors({**BASE, "table.include.list": "public.a,public.(b"})["table.include.list"]
    assert "valid regular expressions" in message and "public.(b" in message
    c = PostgresConfig.parse({**BASE, "table.include.list": r" public.a , public.b\,c "})
    assert c.table_include_list == ["public.a", "public.b,c"]
    assert c.table_filter.is_included("PUBLIC", "A")


def test_decoderbufs_is_refused_with_a_way_out() -> None:
    (message,) = errors({**BASE, "plugin.name": "decoderbufs"})["plugin.name"]
    assert "Penstock streams with pgoutput" in message and "plugin.name=pgoutput" in message
    assert errors({**BASE, "plugin.name": "PGOUTPUT"}) == {}
    (other,) = errors({**BASE, "plugin.name": "wal2json"})["plugin.name"]
    assert other.endswith("Value must be one of pgoutput")


@pytest.mark.parametrize(
    ("given", "mode"),
    [
        ("initial", "initial"),
        ("always", "always"),
        ("initial_only", "initial_only"),
        ("no_data", "no_data"),
        ("never", "no_data"),
        ("NEVER", "no_data"),
        ("when_needed", "when_needed"),
        ("exported", "initial"),
    ],
)
def test_snapshot_modes(given: str, mode: str) -> None:
    assert PostgresConfig.parse({**BASE, "snapshot.mode": given}).snapshot_mode.value == mode


@pytest.mark.parametrize("given", ["custom", "configuration_based", "sometimes"])
def test_other_snapshot_modes_are_refused_with_the_list(given: str) -> None:
    (message,) = errors({**BASE, "snapshot.mode": given})["snapshot.mode"]
    assert "initial, always, initial_only, no_data, when_needed" in message


def test_enums_are_case_insensitive_and_checked() -> None:
    c = PostgresConfig.parse(
        {**BASE, "publication.autocreate.mode": "FILTERED", "binary.handling.mode": "Base64-URL-Safe"}
    )
    assert c.publication_autocreate_mode is AutoCreateMode.FILTERED
    assert c.binary_handling_mode is BinaryHandlingMode.BASE64_URL_SAFE
    (message,) = errors({**BASE, "publication.autocreate.mode": "some"})["publication.autocreate.mode"]
    assert message.endswith("Value must be one of all_tables, disabled, filtered, no_tables")
    assert "time.precision.mode" in errors({**BASE, "time.precision.mode": "nanoseconds"})
    assert "database.sslmode" in errors({**BASE, "database.sslmode": "on"})


def test_slot_name_rules() -> None:
    assert errors({**BASE, "slot.name": "my_slot_1"}) == {}
    for bad in ("My-Slot", "x" * 64, ""):
        (message,) = errors({**BASE, "slot.name": bad})["slot.name"]
        assert "only digits, lowercase characters and underscores" in message


def test_skipped_operations() -> None:
    assert PostgresConfig.parse({**BASE, "skipped.operations": "c, D"}).skipped_operation_codes == {"c", "d"}
    assert PostgresConfig.parse({**BASE, "skipped.operations": "none"}).skipped_operation_codes == frozenset()
    (message,) = errors({**BASE, "skipped.operations": "c,x"})["skipped.operations"]
    assert "'x' is not a valid operation" in message


def test_numbers_and_booleans_parse_like_configdef() -> None:
    assert "database.port" in errors({**BASE, "database.port": "abc"})
    assert "database.port" in errors({**BASE, "database.port": "70000"})
    assert errors({**BASE, "slot.drop.on.stop": "yes"})["slot.drop.on.stop"][0].endswith(
        "Expected value to be either true or false"
    )
    assert (
        PostgresConfig.parse({**BASE, "slot.retry.delay.ms": " 5000000000 "}).slot_retry_delay_ms
        == 5000000000
    )
    (queue,) = errors({**BASE, "max.batch.size": "100", "max.queue.size": "100"})["max.queue.size"]
    assert queue.endswith("Must be larger than the maximum batch size")


def test_hostname_characters() -> None:
    assert errors({**BASE, "database.hostname": "10.0.0.1"}) == {}
    assert "database.hostname" in errors({**BASE, "database.hostname": "db host"})


def test_password_never_shows() -> None:
    found = errors({**BASE, "database.password": "hunter2", "database.port": "x"})
    assert "hunter2" not in repr(found)
    c = PostgresConfig.parse({**BASE, "database.password": "hunter2"})
    assert "hunter2" not in repr(c)
    assert c.connect_kwargs()["password"] == "hunter2"
    assert "hunter2" not in c.connect_kwargs()["dsn"]
    values = {v.name: v for v in PostgresConnector().validate({**BASE, "database.password": "hunter2"})}
    assert values["database.password"].value == "[hidden]"


def test_connect_kwargs() -> None:
    c = PostgresConfig.parse(
        {
            **BASE,
            "database.sslmode": "require",
            "database.sslrootcert": "/ca.pem",
            "database.query.timeout.ms": "0",
        }
    )
    kwargs = c.connect_kwargs(application_name="penstock:x", timeout=3)
    assert kwargs["host"] == "db.example.com" and kwargs["port"] == 5432 and kwargs["database"] == "inventory"
    assert kwargs["dsn"] == "postgresql://?sslmode=require&sslrootcert=%2Fca.pem"
    assert kwargs["command_timeout"] is None and kwargs["timeout"] == 3
    assert kwargs["server_settings"] == {"application_name": "penstock:x"}


def test_initial_statements_split_on_semicolons() -> None:
    c = PostgresConfig.parse({**BASE, "database.initial.statements": "SET a=1; SELECT ';;' ;"})
    assert c.initial_statements == ["SET a=1", "SELECT ';'"]


def test_connector_validate_shows_legacy_values_under_new_names() -> None:
    props = {**{k: v for k, v in BASE.items() if k != "topic.prefix"}, "database.server.name": "legacy"}
    values = {v.name: v for v in PostgresConnector().validate({**props, "table.whitelist": "public.a"})}
    assert values["topic.prefix"].value == "legacy" and not values["topic.prefix"].errors
    assert values["table.include.list"].value == "public.a"


def test_one_task_whatever_tasks_max() -> None:
    connector = PostgresConnector()
    assert connector.task_configs(1) == [{}]
    assert connector.task_configs(8) == [{}]


def test_parse_error_lists_every_problem() -> None:
    with pytest.raises(ConfigError) as info:
        PostgresConfig.parse({**BASE, "slot.name": "Bad", "plugin.name": "decoderbufs"})
    assert "slot.name" in str(info.value) and "plugin.name" in str(info.value)
