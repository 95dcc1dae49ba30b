"""A topic the cluster cannot replicate as asked: the message names the broker count and the
setting to change, and is a ``ConfigError`` (the automatic restart policy does not retry it)."""

from __future__ import annotations

from app.kafka.replication import replication_factor_message

KAFKA = (
    "Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be "
    "reached because only 1 broker(s) are registered or some brokers have all their log directories cordoned."
)


def test_a_setting_above_the_broker_count() -> None:
    message = replication_factor_message("lines", 3, 1, "topic.creation.default.replication.factor", KAFKA)
    assert message == (
        "Cannot create topic lines with replication factor 3: the Kafka cluster has only 1 broker; "
        "set topic.creation.default.replication.factor to 1 or less (-1 uses the brokers' "
        f"default.replication.factor), or add brokers. (Kafka: {KAFKA})"
    )
    assert "bootstrap.servers" not in message


def test_an_internal_topic_of_a_distributed_worker() -> None:
    message = replication_factor_message("connect-configs", 3, 2, "config.storage.replication.factor", None)
    assert message == (
        "Cannot create topic connect-configs with replication factor 3: the Kafka cluster has only 2 "
        "brokers; set config.storage.replication.factor to 2 or less (-1 uses the brokers' "
        "default.replication.factor), or add brokers."
    )


def test_the_brokers_default_is_too_high() -> None:
    """-1 asks the brokers for their default: their setting, or ours, can be changed."""
    message = replication_factor_message("t", -1, 1, "status.storage.replication.factor", None)
    assert message == (
        "Cannot create topic t with the brokers' default.replication.factor: the Kafka cluster has only "
        "1 broker; set status.storage.replication.factor to 1 or less, or set default.replication.factor "
        "on the brokers to 1 or less, or add brokers."
    )
    # A topic created with the brokers' defaults, no Penstock setting involved.
    assert replication_factor_message("t", -1, 1, None, None) == (
        "Cannot create topic t with the brokers' default.replication.factor: the Kafka cluster has only "
        "1 broker; set default.replication.factor on the brokers to 1 or less, or add brokers."
    )


def test_broker_count_unknown_or_not_the_reason() -> None:
    unknown = replication_factor_message("t", 3, None, "topic.creation.default.replication.factor", None)
    assert unknown.startswith(
        "Cannot create topic t with replication factor 3: the Kafka cluster has fewer brokers;"
    )
    assert "set topic.creation.default.replication.factor to the number of brokers or less" in unknown
    # Enough brokers registered, yet Kafka refused (fenced brokers, cordoned log directories).
    placed = replication_factor_message("t", 3, 3, "topic.creation.default.replication.factor", KAFKA)
    assert "Kafka cannot place 3 replicas on the 3 brokers it has now" in placed
    assert "the Kafka cluster has only" not in placed
