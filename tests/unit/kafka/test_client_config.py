"""Kafka client settings -> aiokafka keyword arguments: layering, override policy, types, security."""

from __future__ import annotations

import inspect
import shutil
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from app.config.client_overrides import KEYS, check_overrides, parse_jaas_config
from app.kafka.client_config import client_kwargs
from app.settings import WorkerSettings
from connectors.sdk.errors import ConfigError

PLAIN_JAAS = (
    'org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="s3cr3t";'
)


def worker(**props: str) -> WorkerSettings:
    return WorkerSettings.model_validate(props)


def settings(props: dict[str, str]) -> WorkerSettings:
    return WorkerSettings.model_validate(props)


# --- layering ---------------------------------------------------------------------------------------


def test_defaults_give_only_the_bootstrap_servers() -> None:
    assert client_kwargs(worker(), "producer") == {"bootstrap_servers": ["localhost:9092"]}
    assert client_kwargs(worker(), "admin") == {"bootstrap_servers": ["localhost:9092"]}
    # the worker's consumer.max.poll.records is a declared field, default 500 as in Kafka
    assert client_kwargs(worker(), "consumer") == {
        "bootstrap_servers": ["localhost:9092"],
        "max_poll_records": 500,
    }


def test_layers_worker_common_then_role_prefix_then_connector_override() -> None:
    s = settings(
        {
            "bootstrap.servers": "a:9092, b:9093",
            "client.id": "worker",
            "request.timeout.ms": "1000",
            "producer.client.id": "producer",
            "producer.request.timeout.ms": "2000",
            "producer.linger.ms": "5",
        }
    )
    kwargs = client_kwargs(s, "producer", {"producer.override.request.timeout.ms": "3000", "name": "c"})
    assert kwargs == {
        "bootstrap_servers": ["a:9092", "b:9093"],
        "client_id": "producer",
        "request_timeout_ms": 3000,
        "linger_ms": 5,
    }
    # the consumer sees the common layer but neither producer layer
    consumer = client_kwargs(s, "consumer", {"producer.override.request.timeout.ms": "3000"})
    assert consumer["client_id"] == "worker"
    assert consumer["request_timeout_ms"] == 1000
    assert "linger_ms" not in consumer


def test_role_prefix_can_point_a_client_at_another_cluster() -> None:
    s = settings({"bootstrap.servers": "main:9092", "admin.bootstrap.servers": "other:9092"})
    assert client_kwargs(s, "admin")["bootstrap_servers"] == ["other:9092"]
    assert client_kwargs(s, "producer")["bootstrap_servers"] == ["main:9092"]


def test_consumer_max_poll_records_worker_field_then_override() -> None:
    s = settings({"consumer.max.poll.records": "42"})
    assert client_kwargs(s, "consumer")["max_poll_records"] == 42
    assert client_kwargs(s, "consumer", {"consumer.override.max.poll.records": "7"})["max_poll_records"] == 7


def test_keys_for_another_client_or_unknown_or_unsupported_are_dropped() -> None:
    s = settings(
        {
            "producer.buffer.memory": "33554432",
            "producer.key.serializer": "org.apache.kafka.common.serialization.ByteArraySerializer",
            "producer.max.poll.records": "10",  # a consumer key given to the producer
            "producer.no.such.key": "x",
            "consumer.linger.ms": "5",  # a producer key given to the consumer
        }
    )
    assert client_kwargs(s, "producer") == {"bootstrap_servers": ["localhost:9092"]}
    assert "linger_ms" not in client_kwargs(s, "consumer")


# --- override policy --------------------------------------------------------------------------------

OVERRIDES = {
    "producer.override.linger.ms": "10",
    "producer.override.sasl.mechanism": "PLAIN",
    "consumer.override.max.poll.records": "5",
    "admin.override.request.timeout.ms": "100",
}


def test_policy_all_is_the_default() -> None:
    assert check_overrides(worker(), OVERRIDES) == []
    assert client_kwargs(worker(), "producer", OVERRIDES)["linger_ms"] == 10
    assert client_kwargs(worker(), "consumer", OVERRIDES)["max_poll_records"] == 5
    assert client_kwargs(worker(), "admin", OVERRIDES)["request_timeout_ms"] == 100


def test_policy_none_forbids_every_override() -> None:
    s = settings({"connector.client.config.override.policy": "None"})
    assert check_overrides(s, OVERRIDES) == [
        f"The 'None' policy does not allow '{key}' to be overridden in the connector configuration."
        for key in OVERRIDES
    ]
    with pytest.raises(ConfigError, match=r"'None' policy does not allow 'producer\.override\.linger\.ms'"):
        client_kwargs(s, "producer", OVERRIDES)
    # without overrides the policy does not get in the way
    assert client_kwargs(s, "producer", {"name": "c"}) == {"bootstrap_servers": ["localhost:9092"]}


def test_policy_principal_allows_only_the_identity() -> None:
    s = settings({"connector.client.config.override.policy": "Principal"})
    identity = {
        "producer.override.security.protocol": "SASL_PLAINTEXT",
        "producer.override.sasl.mechanism": "PLAIN",
        "producer.override.sasl.jaas.config": PLAIN_JAAS,
    }
    assert check_overrides(s, identity) == []
    kwargs = client_kwargs(s, "producer", identity)
    assert kwargs["sasl_plain_username"] == "alice"
    assert check_overrides(s, OVERRIDES) == [
        "The 'Principal' policy does not allow 'producer.override.linger.ms' to be overridden in the connector configuration.",
        "The 'Principal' policy does not allow 'consumer.override.max.poll.records' to be overridden in the connector configuration.",
        "The 'Principal' policy does not allow 'admin.override.request.timeout.ms' to be overridden in the connector configuration.",
    ]
    with pytest.raises(ConfigError, match=r"linger\.ms"):
        client_kwargs(s, "producer", OVERRIDES)


def test_policy_class_names_and_case_are_accepted() -> None:
    for name in ("org.apache.kafka.connect.connector.policy.NoneConnectorClientConfigOverridePolicy", "none"):
        s = settings({"connector.client.config.override.policy": name})
        assert check_overrides(s, {"producer.override.linger.ms": "1"}) == [
            "The 'None' policy does not allow 'producer.override.linger.ms' to be overridden in the connector configuration."
        ]


def test_unknown_policy_is_refused_when_the_worker_settings_load() -> None:
    with pytest.raises(
        ValidationError,
        match=r"Invalid value Allowlist for configuration connector\.client\.config\.override\.policy: must be one of None, Principal or All",
    ):
        settings({"connector.client.config.override.policy": "Allowlist"})


def test_check_overrides_reports_bad_values_under_their_override_key() -> None:
    errors = check_overrides(
        worker(),
        {
            "producer.override.linger.ms": "abc",
            "consumer.override.isolation.level": "dirty",
            "producer.override.sasl.jaas.config": "nonsense",
            "admin.override.linger.ms": "abc",  # not an admin key: ignored, as the client ignores it
        },
    )
    assert errors == [
        "Invalid value abc for configuration producer.override.linger.ms: Not a number of type LONG",
        "sasl.jaas.config is not valid JAAS: expected 'LoginModule flag key=value ...;'",
        "Invalid value dirty for configuration consumer.override.isolation.level: "
        "String must be one of: read_uncommitted, read_committed",
    ]


# --- key mapping and types --------------------------------------------------------------------------

PRODUCER_CASES: list[tuple[str, str, str, Any]] = [
    ("client.id", "me", "client_id", "me"),
    ("request.timeout.ms", "1500", "request_timeout_ms", 1500),
    ("retry.backoff.ms", "250", "retry_backoff_ms", 250),
    ("metadata.max.age.ms", "60000", "metadata_max_age_ms", 60000),
    ("connections.max.idle.ms", "1000", "connections_max_idle_ms", 1000),
    ("security.protocol", "plaintext", "security_protocol", "PLAINTEXT"),
    ("acks", "all", "acks", "all"),
    ("acks", "-1", "acks", "all"),
    ("acks", "0", "acks", 0),
    ("acks", "1", "acks", 1),
    ("compression.type", "none", "compression_type", None),
    ("compression.type", "gzip", "compression_type", "gzip"),
    ("compression.type", "snappy", "compression_type", "snappy"),
    ("compression.type", "LZ4", "compression_type", "lz4"),
    ("compression.type", "zstd", "compression_type", "zstd"),
    ("linger.ms", " 20 ", "linger_ms", 20),
    ("batch.size", "32768", "max_batch_size", 32768),
    ("max.request.size", "2097152", "max_request_size", 2097152),
    ("enable.idempotence", "TRUE", "enable_idempotence", True),
    ("enable.idempotence", "false", "enable_idempotence", False),
    ("transactional.id", "tx-1", "transactional_id", "tx-1"),
    ("transaction.timeout.ms", "30000", "transaction_timeout_ms", 30000),
]

CONSUMER_CASES: list[tuple[str, str, str, Any]] = [
    ("group.id", "connect-sink", "group_id", "connect-sink"),
    ("group.instance.id", "i-1", "group_instance_id", "i-1"),
    ("client.rack", "eu-1a", "client_rack", "eu-1a"),
    ("max.poll.records", "100", "max_poll_records", 100),
    ("max.poll.interval.ms", "600000", "max_poll_interval_ms", 600000),
    ("fetch.max.bytes", "1000000", "fetch_max_bytes", 1000000),
    ("fetch.min.bytes", "10", "fetch_min_bytes", 10),
    ("fetch.max.wait.ms", "100", "fetch_max_wait_ms", 100),
    ("max.partition.fetch.bytes", "65536", "max_partition_fetch_bytes", 65536),
    ("session.timeout.ms", "45000", "session_timeout_ms", 45000),
    ("heartbeat.interval.ms", "3000", "heartbeat_interval_ms", 3000),
    ("rebalance.timeout.ms", "60000", "rebalance_timeout_ms", 60000),
    ("auto.offset.reset", "Earliest", "auto_offset_reset", "earliest"),
    ("auto.offset.reset", "none", "auto_offset_reset", "none"),
    ("enable.auto.commit", "false", "enable_auto_commit", False),
    ("auto.commit.interval.ms", "1000", "auto_commit_interval_ms", 1000),
    ("check.crcs", "false", "check_crcs", False),
    ("exclude.internal.topics", "false", "exclude_internal_topics", False),
    ("isolation.level", "read_committed", "isolation_level", "read_committed"),
]


@pytest.mark.parametrize(("key", "raw", "kwarg", "expected"), PRODUCER_CASES)
def test_producer_keys(key: str, raw: str, kwarg: str, expected: Any) -> None:
    kwargs = client_kwargs(settings({f"producer.{key}": raw}), "producer")
    assert kwarg in kwargs
    assert kwargs[kwarg] == expected
    assert type(kwargs[kwarg]) is type(expected)


@pytest.mark.parametrize(("key", "raw", "kwarg", "expected"), CONSUMER_CASES)
def test_consumer_keys(key: str, raw: str, kwarg: str, expected: Any) -> None:
    kwargs = client_kwargs(worker(), "consumer", {f"consumer.override.{key}": raw})
    assert kwarg in kwargs
    assert kwargs[kwarg] == expected
    assert type(kwargs[kwarg]) is type(expected)


def test_bootstrap_servers_accept_ipv6_and_hostnames() -> None:
    s = settings({"bootstrap.servers": "[::1]:9092,kafka-0.svc.local:19092,"})
    assert client_kwargs(s, "admin")["bootstrap_servers"] == ["[::1]:9092", "kafka-0.svc.local:19092"]


@pytest.mark.parametrize(
    ("key", "raw", "message"),
    [
        (
            "linger.ms",
            "abc",
            "Invalid value abc for configuration producer.linger.ms: Not a number of type LONG",
        ),
        (
            "batch.size",
            "1.5",
            "Invalid value 1.5 for configuration producer.batch.size: Not a number of type INT",
        ),
        (
            "linger.ms",
            "-1",
            "Invalid value -1 for configuration producer.linger.ms: Value must be at least 0",
        ),
        (
            "compression.type",
            "brotli",
            "Invalid value brotli for configuration producer.compression.type: "
            "String must be one of: none, gzip, snappy, lz4, zstd",
        ),
        (
            "acks",
            "2",
            "Invalid value 2 for configuration producer.acks: String must be one of: all, -1, 0, 1",
        ),
        (
            "enable.idempotence",
            "yes",
            "Invalid value yes for configuration producer.enable.idempotence: "
            "Expected value to be either true or false",
        ),
        (
            "security.protocol",
            "TLS",
            "Invalid value TLS for configuration producer.security.protocol: "
            "String must be one of: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL",
        ),
        (
            "bootstrap.servers",
            "kafka",
            "Invalid value kafka for configuration producer.bootstrap.servers: "
            "Invalid url in bootstrap.servers: kafka",
        ),
        (
            "bootstrap.servers",
            " , ",
            "Invalid value  ,  for configuration producer.bootstrap.servers: "
            "No resolvable bootstrap urls given in bootstrap.servers",
        ),
    ],
)
def test_bad_values_name_the_key_and_value(key: str, raw: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        client_kwargs(settings({f"producer.{key}": raw}), "producer")
    assert str(info.value) == message


def test_every_bad_value_is_reported_at_once() -> None:
    s = settings({"producer.linger.ms": "x", "producer.acks": "x"})
    with pytest.raises(ConfigError) as info:
        client_kwargs(s, "producer")
    assert "producer.linger.ms" in str(info.value)
    assert "producer.acks" in str(info.value)


def test_consumer_range_checks() -> None:
    with pytest.raises(ConfigError, match=r"max\.poll\.records: Value must be at least 1"):
        client_kwargs(worker(), "consumer", {"consumer.override.max.poll.records": "0"})


@pytest.mark.parametrize(
    ("role", "cls"),
    [("producer", AIOKafkaProducer), ("consumer", AIOKafkaConsumer), ("admin", AIOKafkaAdminClient)],
)
def test_every_mapped_kwarg_is_accepted_by_the_target_class(role: str, cls: type) -> None:
    accepted = set(inspect.signature(cls.__init__).parameters)
    for spec in KEYS.values():
        if role in spec.roles:
            assert spec.kwarg in accepted, (role, spec.kwarg)
    for extra in ("ssl_context", "sasl_mechanism", "sasl_plain_username", "sasl_plain_password"):
        assert extra in accepted


# --- SASL -------------------------------------------------------------------------------------------


def test_sasl_plain() -> None:
    s = settings(
        {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN", "sasl.jaas.config": PLAIN_JAAS}
    )
    kwargs = client_kwargs(s, "producer")
    assert kwargs["security_protocol"] == "SASL_PLAINTEXT"
    assert kwargs["sasl_mechanism"] == "PLAIN"
    assert kwargs["sasl_plain_username"] == "alice"
    assert kwargs["sasl_plain_password"] == "s3cr3t"
    assert "ssl_context" not in kwargs


def test_sasl_scram_with_escaped_quotes_and_bare_values() -> None:
    jaas = (
        "org.apache.kafka.common.security.scram.ScramLoginModule required\n"
        '  username=bob password="p\\"a;ss w=rd" tokenauth=false ;'
    )
    s = settings(
        {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-256", "sasl.jaas.config": jaas}
    )
    kwargs = client_kwargs(s, "consumer")
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-256"
    assert kwargs["sasl_plain_username"] == "bob"
    assert kwargs["sasl_plain_password"] == 'p"a;ss w=rd'


def test_parse_jaas_config_returns_module_and_options() -> None:
    module, options = parse_jaas_config(PLAIN_JAAS)
    assert module == "org.apache.kafka.common.security.plain.PlainLoginModule"
    assert options == {"username": "alice", "password": "s3cr3t"}


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"sasl.jaas.config": PLAIN_JAAS},
            "sasl.mechanism is not set and Kafka's default, GSSAPI, is not supported",
        ),
        (
            {"sasl.mechanism": "GSSAPI", "sasl.jaas.config": PLAIN_JAAS},
            "Penstock supports PLAIN, SCRAM-SHA-256",
        ),
        ({"sasl.mechanism": "OAUTHBEARER", "sasl.jaas.config": PLAIN_JAAS}, "sasl.mechanism"),
        ({"sasl.mechanism": "PLAIN"}, "sasl.jaas.config must give the username and password"),
        ({"sasl.mechanism": "SCRAM-SHA-512", "sasl.jaas.config": PLAIN_JAAS}, "needs ScramLoginModule"),
        (
            {"sasl.mechanism": "PLAIN", "sasl.jaas.config": PLAIN_JAAS.removesuffix(";")},
            "sasl.jaas.config is not valid JAAS",
        ),
        (
            {"sasl.mechanism": "PLAIN", "sasl.jaas.config": PLAIN_JAAS + PLAIN_JAAS},
            "contains 2 login modules",
        ),
        (
            {
                "sasl.mechanism": "PLAIN",
                "sasl.jaas.config": 'org.apache.kafka.common.security.plain.PlainLoginModule required username="a";',
            },
            "must set username and password",
        ),
    ],
)
def test_sasl_errors_never_show_the_secret(props: dict[str, str], message: str) -> None:
    s = settings({"security.protocol": "SASL_SSL", **props})
    with pytest.raises(ConfigError) as info:
        client_kwargs(s, "admin")
    assert message in str(info.value)
    assert "s3cr3t" not in str(info.value)


def test_sasl_keys_are_not_read_without_a_sasl_protocol() -> None:
    s = settings({"security.protocol": "PLAINTEXT", "sasl.mechanism": "GSSAPI"})
    assert client_kwargs(s, "producer") == {
        "bootstrap_servers": ["localhost:9092"],
        "security_protocol": "PLAINTEXT",
    }


# --- SSL --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pem_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A self-signed certificate and keys, made with the openssl command line tool."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command line tool is needed to make a test certificate")
    d = tmp_path_factory.mktemp("pem")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    run(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=penstock-test",
        "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem"),
    )  # fmt: skip
    run("pkey", "-in", str(d / "key.pem"), "-aes256", "-passout", "pass:secret", "-out", str(d / "enc.pem"))
    cert = (d / "cert.pem").read_text()
    (d / "keystore.pem").write_text((d / "key.pem").read_text() + cert)
    (d / "keystore-enc.pem").write_text((d / "enc.pem").read_text() + cert)
    return {"cert": d / "cert.pem", "keystore": d / "keystore.pem", "keystore_enc": d / "keystore-enc.pem"}


def ssl_settings(files: dict[str, Path], **extra: str) -> WorkerSettings:
    return settings(
        {
            "security.protocol": "SSL",
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(files["cert"]),
            **extra,
        }
    )


def _subjects(context: ssl.SSLContext) -> list[Any]:
    return [cert["subject"] for cert in context.get_ca_certs()]


def test_ssl_truststore_pem(pem_files: dict[str, Path]) -> None:
    kwargs = client_kwargs(ssl_settings(pem_files), "producer")
    context = kwargs["ssl_context"]
    assert kwargs["security_protocol"] == "SSL"
    assert isinstance(context, ssl.SSLContext)
    assert _subjects(context) == [((("commonName", "penstock-test"),),)]
    assert context.check_hostname is True
    assert context.verify_mode is ssl.CERT_REQUIRED


def test_ssl_inline_truststore_certificates(pem_files: dict[str, Path]) -> None:
    s = settings(
        {
            "security.protocol": "SASL_SSL",
            "ssl.truststore.type": "PEM",
            "ssl.truststore.certificates": pem_files["cert"].read_text(),
            "sasl.mechanism": "PLAIN",
            "sasl.jaas.config": PLAIN_JAAS,
        }
    )
    kwargs = client_kwargs(s, "consumer")
    assert _subjects(kwargs["ssl_context"]) == [((("commonName", "penstock-test"),),)]
    assert kwargs["sasl_plain_username"] == "alice"


def test_ssl_empty_endpoint_identification_turns_off_hostname_checks(pem_files: dict[str, Path]) -> None:
    s = ssl_settings(pem_files, **{"ssl.endpoint.identification.algorithm": ""})
    context = client_kwargs(s, "admin")["ssl_context"]
    assert context.check_hostname is False
    assert context.verify_mode is ssl.CERT_REQUIRED


def test_ssl_pem_keystore_plain_and_encrypted(pem_files: dict[str, Path]) -> None:
    plain = ssl_settings(
        pem_files, **{"ssl.keystore.type": "PEM", "ssl.keystore.location": str(pem_files["keystore"])}
    )
    assert isinstance(client_kwargs(plain, "producer")["ssl_context"], ssl.SSLContext)
    encrypted = {"ssl.keystore.type": "PEM", "ssl.keystore.location": str(pem_files["keystore_enc"])}
    good = ssl_settings(pem_files, **encrypted, **{"ssl.key.password": "secret"})
    assert isinstance(client_kwargs(good, "producer")["ssl_context"], ssl.SSLContext)
    for bad in (
        ssl_settings(pem_files, **encrypted, **{"ssl.key.password": "wrong"}),
        ssl_settings(pem_files, **encrypted),
    ):
        with pytest.raises(ConfigError, match=r"check ssl\.key\.password") as info:
            client_kwargs(bad, "producer")  # an encrypted key without its password must not prompt
        assert "wrong" not in str(info.value)


def test_ssl_missing_file(tmp_path: Path) -> None:
    s = settings(
        {
            "security.protocol": "SSL",
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(tmp_path / "nope.pem"),
        }
    )
    with pytest.raises(ConfigError, match="Cannot load the SSL trust or key store"):
        client_kwargs(s, "producer")


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"ssl.truststore.location": "/etc/kafka/truststore.jks"}, "ssl.truststore.type is JKS"),
        ({"ssl.truststore.location": "/x.jks", "ssl.truststore.type": "JKS"}, "set ssl.truststore.type=PEM"),
        (
            {"ssl.truststore.location": "/x.p12", "ssl.truststore.type": "PKCS12"},
            "ssl.truststore.type is PKCS12",
        ),
        ({"ssl.keystore.location": "/x.jks", "ssl.keystore.password": "pw"}, "set ssl.keystore.type=PEM"),
        ({"ssl.keystore.key": "-----BEGIN", "ssl.keystore.type": "PEM"}, "ssl.keystore.key"),
    ],
)
def test_ssl_java_stores_are_rejected(props: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match="PEM") as info:
        client_kwargs(settings({"security.protocol": "SSL", **props}), "producer")
    assert message in str(info.value)


def test_ssl_system_cas_without_a_truststore() -> None:
    context = client_kwargs(settings({"security.protocol": "SSL"}), "producer")["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname is True


def test_ssl_keys_are_not_read_without_an_ssl_protocol() -> None:
    s = settings({"ssl.truststore.location": "/x.jks"})  # JKS, but unused under PLAINTEXT
    assert "ssl_context" not in client_kwargs(s, "producer")


def test_a_connector_can_switch_its_identity_over_the_worker_ssl_settings(pem_files: dict[str, Path]) -> None:
    s = ssl_settings(pem_files)
    kwargs = client_kwargs(
        s,
        "producer",
        {
            "producer.override.security.protocol": "SASL_SSL",
            "producer.override.sasl.mechanism": "PLAIN",
            "producer.override.sasl.jaas.config": PLAIN_JAAS,
        },
    )
    assert kwargs["security_protocol"] == "SASL_SSL"
    assert _subjects(kwargs["ssl_context"]) == [((("commonName", "penstock-test"),),)]
    assert kwargs["sasl_plain_password"] == "s3cr3t"


def test_unknown_keys_are_logged_without_values(caplog: pytest.LogCaptureFixture) -> None:
    import structlog

    with structlog.testing.capture_logs() as logs:
        client_kwargs(settings({"producer.no.such.key": "s3cr3t-value"}), "producer")
    assert logs == [
        {
            "event": "Client configurations were supplied but are not known configs",
            "role": "producer",
            "keys": ["producer.no.such.key"],
            "log_level": "debug",
        }
    ]


# --- why a client could not bootstrap ------------------------------------------------------------


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: nothing listens


async def test_a_refused_connection_is_added_to_the_bootstrap_error() -> None:
    from aiokafka.errors import KafkaConnectionError

    from app.kafka.client_config import explain_bootstrap_failure

    server = f"127.0.0.1:{_closed_port()}"
    original = KafkaConnectionError("Unable to bootstrap from [...]")
    explained = await explain_bootstrap_failure(original, {"bootstrap_servers": [server]})
    assert isinstance(explained, KafkaConnectionError)
    assert f"{server} refused the connection: ConnectionRefusedError" in str(explained)


async def test_start_client_raises_the_explained_error_from_the_original() -> None:
    from aiokafka.errors import KafkaConnectionError

    from app.kafka.client_config import start_client

    class Client:
        async def start(self) -> None:
            raise KafkaConnectionError("Unable to bootstrap")

    with pytest.raises(KafkaConnectionError, match="refused the connection") as caught:
        await start_client(Client(), {"bootstrap_servers": [f"127.0.0.1:{_closed_port()}"]})
    assert isinstance(caught.value.__cause__, KafkaConnectionError)
