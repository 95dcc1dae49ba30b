"""The message for a topic the Kafka cluster cannot replicate as asked.

A replication factor above the broker count is the classic first-hour mistake (Kafka Connect's
defaults of 3 on a one-broker development cluster). Kafka's own text names neither the setting
that asked for the factor nor how to fix it; this one names both, and the broker count.
"""

from __future__ import annotations

INVALID_REPLICATION_FACTOR = 38
BROKER_DEFAULT_REPLICATION = "default.replication.factor"


def replication_factor_message(
    topic: str, requested: int, brokers: int | None, setting: str | None, kafka_message: str | None
) -> str:
    """Why a topic cannot be created with its replication factor, and which setting to change.

    ``requested`` -1 is the broker's ``default.replication.factor``; ``setting`` None means no
    Penstock setting asked for the factor (a topic created with the broker's defaults)."""
    factor = (
        f"replication factor {requested}" if requested > 0 else f"the brokers' {BROKER_DEFAULT_REPLICATION}"
    )
    if brokers and 0 < requested <= brokers:  # fenced brokers, cordoned log directories
        reason = f"Kafka cannot place {requested} replicas on the {brokers} brokers it has now"
        limit = str(brokers)
    elif brokers:
        reason = f"the Kafka cluster has only {brokers} broker{'' if brokers == 1 else 's'}"
        limit = str(brokers)
    else:
        reason = "the Kafka cluster has fewer brokers"
        limit = "the number of brokers"
    if setting is None or requested <= 0:
        fix = f"set {BROKER_DEFAULT_REPLICATION} on the brokers to {limit} or less"
        if setting is not None:
            fix = f"set {setting} to {limit} or less, or {fix}"
    else:
        fix = f"set {setting} to {limit} or less (-1 uses the brokers' {BROKER_DEFAULT_REPLICATION})"
    detail = f" (Kafka: {kafka_message})" if kafka_message else ""
    return f"Cannot create topic {topic} with {factor}: {reason}; {fix}, or add brokers.{detail}"
