"""Worker settings: .properties, .env, CONNECT_* variables, overrides, validation and derived values."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from app.settings import (
    SettingsError,
    WorkerSettings,
    env_to_key,
    from_env,
    load_settings,
    read_dotenv,
    read_properties,
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def settings(**overrides: object) -> WorkerSettings:
    return load_settings(overrides=overrides, env={}, dotenv=None)


# -- .properties ------------------------------------------------------------------------------


def test_read_properties_separators_comments_and_whitespace(tmp_path: Path) -> None:
    props = write(
        tmp_path / "w.properties",
        "# a comment\n"
        "! another comment\n"
        "\n"
        "   \n"
        "plain=value\n"
        "colon: value2\n"
        "  spaced.key   =   spaced value  \n"
        "listeners=http://:8083\n"
        "colon.first: a=b\n"
        "equals.first=a:b\n"
        "empty.value=\n"
        "no.separator\n"
        "   # indented comment\n",
    )
    assert read_properties(props) == {
        "plain": "value",
        "colon": "value2",
        "spaced.key": "spaced value",
        "listeners": "http://:8083",
        "colon.first": "a=b",
        "equals.first": "a:b",
        "empty.value": "",
        "no.separator": "",
    }


def test_read_properties_continuation_lines(tmp_path: Path) -> None:
    props = write(
        tmp_path / "w.properties",
        "plugin.path=/a, \\\n    /b, \\\n    /c\nafter=1\n",
    )
    assert read_properties(props) == {"plugin.path": "/a, /b, /c", "after": "1"}


def test_read_properties_continuation_line_starting_with_hash_is_not_a_comment(tmp_path: Path) -> None:
    props = write(tmp_path / "w.properties", "key=a\\\n#not-a-comment\n")
    assert read_properties(props) == {"key": "a#not-a-comment"}


def test_read_properties_later_duplicate_wins(tmp_path: Path) -> None:
    props = write(tmp_path / "w.properties", "k=1\nk=2\n")
    assert read_properties(props) == {"k": "2"}


def test_read_properties_unescapes_java_escapes(tmp_path: Path) -> None:
    props = write(
        tmp_path / "w.properties", "listeners=http\\://localhost\\:8083\nplugin.path=C\\:\\\\plugins\n"
    )
    assert read_properties(props) == {"listeners": "http://localhost:8083", "plugin.path": "C:\\plugins"}


# -- .env and environment variables -----------------------------------------------------------


def test_read_dotenv(tmp_path: Path) -> None:
    dotenv = write(
        tmp_path / ".env",
        "# comment\n"
        "CONNECT_A=1\n"
        "export CONNECT_B = two \n"
        "CONNECT_C='quoted value'\n"
        'CONNECT_D="double"\n'
        "CONNECT_E=x=y\n"
        "not an assignment\n",
    )
    assert read_dotenv(dotenv) == {
        "CONNECT_A": "1",
        "CONNECT_B": "two",
        "CONNECT_C": "quoted value",
        "CONNECT_D": "double",
        "CONNECT_E": "x=y",
    }
    assert read_dotenv(tmp_path / "missing.env") == {}


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("CONNECT_OFFSET_FLUSH_INTERVAL_MS", "offset.flush.interval.ms"),
        ("CONNECT_LISTENERS", "listeners"),
        ("CONNECT_VALUE_CONVERTER_SCHEMAS_ENABLE", "value.converter.schemas.enable"),
        ("CONNECT_SOME__DASHED_KEY", "some-dashed.key"),
    ],
)
def test_env_to_key(name: str, key: str) -> None:
    assert env_to_key(name) == key


def test_from_env_only_takes_connect_prefixed_names() -> None:
    env = {"CONNECT_LOG_LEVEL": "DEBUG", "PATH": "/bin", "CONNECT_": "x", "KAFKA_X": "1"}
    assert from_env(env) == {"log.level": "DEBUG"}


# -- load_settings ----------------------------------------------------------------------------


def test_defaults() -> None:
    s = settings()
    assert s.listeners == "http://:8083"
    assert s.num_partitions == 1
    assert s.offset_flush_interval_ms == 10_000
    assert s.auto_create_topics_enable is True
    assert s.value_converter == "org.apache.kafka.connect.json.JsonConverter"
    assert s.extras == {}


def test_priority_defaults_properties_dotenv_env_overrides(tmp_path: Path) -> None:
    props = write(
        tmp_path / "w.properties",
        "num.partitions=2\noffset.flush.interval.ms=200\nlog.level=WARN\nconsumer.max.poll.records=7\n",
    )
    dotenv = write(
        tmp_path / ".env",
        "CONNECT_OFFSET_FLUSH_INTERVAL_MS=300\nCONNECT_LOG_LEVEL=ERROR\nCONNECT_CONSUMER_MAX_POLL_RECORDS=8\n",
    )
    env = {"CONNECT_LOG_LEVEL": "DEBUG", "CONNECT_CONSUMER_MAX_POLL_RECORDS": "9"}
    s = load_settings(props, overrides={"consumer.max.poll.records": 10}, env=env, dotenv=dotenv)
    assert s.num_partitions == 2  # properties over defaults
    assert s.offset_flush_interval_ms == 300  # .env over properties
    assert s.log_level == "DEBUG"  # environment over .env
    assert s.consumer_max_poll_records == 10  # overrides over everything
    assert s.task_shutdown_graceful_timeout_ms == 5_000  # untouched default


def test_none_overrides_are_ignored(tmp_path: Path) -> None:
    props = write(tmp_path / "w.properties", "num.partitions=3\n")
    s = load_settings(props, overrides={"num.partitions": None}, env={}, dotenv=None)
    assert s.num_partitions == 3


def test_env_parameter_replaces_the_real_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECT_NUM_PARTITIONS", "9")
    assert load_settings(env={}, dotenv=None).num_partitions == 1
    assert load_settings(env=None, dotenv=None).num_partitions == 9


def test_unknown_keys_are_kept_in_extras_and_by_prefix(tmp_path: Path) -> None:
    props = write(
        tmp_path / "w.properties",
        "value.converter.schemas.enable=false\nvalue.converter.replace.null.with.default=true\n"
        "key.converter.schemas.enable=true\nproducer.acks=all\n",
    )
    s = load_settings(props, env={"CONNECT_CONSUMER_GROUP_INSTANCE_ID": "x"}, dotenv=None)
    assert s.extras == {
        "value.converter.schemas.enable": "false",
        "value.converter.replace.null.with.default": "true",
        "key.converter.schemas.enable": "true",
        "producer.acks": "all",
        "consumer.group.instance.id": "x",
    }
    assert s.with_prefix("value.converter.") == {
        "schemas.enable": "false",
        "replace.null.with.default": "true",
    }
    assert s.with_prefix("producer.") == {"acks": "all"}
    assert s.with_prefix("nothing.") == {}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("num.partitions", "0"),
        ("offset.flush.interval.ms", "abc"),
        ("log.retention.check.interval.ms", "10"),
        ("auto.create.topics.enable", "maybe"),
        ("log.format", "xml"),
        ("rest.advertised.port", "http"),
    ],
)
def test_invalid_values_raise_settings_error_naming_the_key(key: str, value: str) -> None:
    with pytest.raises(SettingsError) as info:
        settings(**{key: value})
    message = str(info.value)
    assert message.startswith("Invalid worker settings: ")
    assert f"{key}: " in message


def test_settings_error_names_every_bad_key() -> None:
    with pytest.raises(SettingsError) as info:
        settings(**{"num.partitions": "0", "offset.flush.interval.ms": "abc"})
    assert "num.partitions: " in str(info.value)
    assert "offset.flush.interval.ms: " in str(info.value)


def test_values_are_coerced_from_strings() -> None:
    s = settings(**{"num.partitions": "4", "auto.create.topics.enable": "false", "data.dir": "/x/y"})
    assert s.num_partitions == 4
    assert s.auto_create_topics_enable is False
    assert s.data_dir == Path("/x/y")


# -- listener and worker id -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("listeners", "expected"),
    [
        ("http://:8083", ("0.0.0.0", 8083)),
        ("http://127.0.0.1:9000", ("127.0.0.1", 9000)),
        ("http://[::1]:8083", ("::1", 8083)),
        ("http://localhost:8084, https://other:9443", ("localhost", 8084)),
        ("http://host:", ("host", 8083)),
    ],
)
def test_listener(listeners: str, expected: tuple[str, int]) -> None:
    assert settings(listeners=listeners).listener == expected


def test_listener_without_port_defaults_to_8083() -> None:
    assert settings(listeners="http://localhost").listener == ("localhost", 8083)


def test_worker_id_uses_listener_host_and_port() -> None:
    assert settings(listeners="http://10.0.0.5:9000").worker_id == "10.0.0.5:9000"


def test_worker_id_uses_hostname_for_wildcard_listener(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "worker-7")
    assert settings(listeners="http://:8083").worker_id == "worker-7:8083"
    assert settings(listeners="http://0.0.0.0:9000").worker_id == "worker-7:9000"


def test_worker_id_prefers_rest_advertised_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "worker-7")
    s = settings(
        listeners="http://:8083",
        **{"rest.advertised.host.name": "public.example", "rest.advertised.port": "443"},
    )
    assert s.rest_advertised_port == 443
    assert s.worker_id == "public.example:443"
    assert settings(**{"rest.advertised.host.name": "pub"}).worker_id == "pub:8083"
    assert settings(**{"rest.advertised.port": "1234"}).worker_id == "worker-7:1234"
