"""KIP-875 offsets management: read, alter and reset a connector's offsets.

Source offsets are the connector-defined partition/offset maps; sink offsets are the
``connect-<name>`` consumer group's positions. Changes require the connector to be STOPPED.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.herder.validation import BadRequestError
from app.storage.base import SourceOffsetWrite, TargetState
from connectors.sdk.errors import ConnectError, NotFoundError
from connectors.sdk.records import TopicPartition

if TYPE_CHECKING:
    from app.herder.base import Herder

ALTERED = "The offsets for this connector have been altered successfully"
ALTERED_FRAMEWORK = (
    "The Connect framework-managed offsets for this connector have been altered successfully. However, if this "
    "connector manages offsets externally, they will need to be manually altered in the system that the "
    "connector uses."
)
RESET = "The offsets for this connector have been reset successfully"
RESET_FRAMEWORK = (
    "The Connect framework-managed offsets for this connector have been reset successfully. However, if this "
    "connector manages offsets externally, they will need to be manually reset in the system that the "
    "connector uses."
)


def sink_group(config: dict[str, str], name: str) -> str:
    return config.get("consumer.override.group.id") or f"connect-{name}"


async def get_offsets(herder: Herder, name: str) -> list[dict[str, Any]]:
    config = herder.config(name)
    if herder.connector_type(name) == "sink":
        stored = await herder.ctx.bus.group_offsets(sink_group(config, name))
        return [
            {
                "partition": {"kafka_topic": tp.topic, "kafka_partition": tp.partition},
                "offset": {"kafka_offset": off},
            }
            for tp, off in sorted(stored.items())
        ]
    return [{"partition": p, "offset": o} for p, o in await herder.ctx.offsets.all(name)]


def _require_stopped(herder: Herder, name: str) -> dict[str, str]:
    record = herder.configs.get(name)
    if record is None:
        raise NotFoundError(f"Connector {name} not found")
    if record.target_state != TargetState.STOPPED.value or record.task_configs:
        raise BadRequestError(
            "Connectors must be in the STOPPED state before their offsets can be modified. This can be done "
            f"for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
        )
    return dict(record.config)


async def alter_offsets(herder: Herder, name: str, entries: list[dict[str, Any]]) -> str:
    if not entries:
        raise BadRequestError("Partitions / offsets need to be provided for an alter offsets request")
    config = _require_stopped(herder, name)
    if herder.connector_type(name) == "sink":
        await _alter_sink(herder, name, config, entries)
        return ALTERED_FRAMEWORK
    for entry in entries:
        _check_primitive_map(entry.get("partition"), "partition")
        if entry.get("offset") is not None:
            _check_primitive_map(entry["offset"], "offset")
    connector = herder.worker.ctx.registry.resolve(config["connector.class"], ("source",)).cls
    assert connector is not None
    try:
        handled = await connector().alter_offsets(
            config, {_freeze(e["partition"]): e.get("offset") for e in entries}
        )
    except (ValueError, ConnectError) as exc:
        raise BadRequestError(f"Failed to alter offsets of connector {name}: {exc}") from None

    await herder.ctx.offsets.write(
        [SourceOffsetWrite(name, e["partition"], e.get("offset")) for e in entries]
    )
    return ALTERED if handled else ALTERED_FRAMEWORK


async def reset_offsets(herder: Herder, name: str) -> str:
    config = _require_stopped(herder, name)
    if herder.connector_type(name) == "sink":
        await herder.ctx.bus.delete_group_offsets(sink_group(config, name))
        return RESET_FRAMEWORK

    existing = await herder.ctx.offsets.all(name)
    await herder.ctx.offsets.write([SourceOffsetWrite(name, p, None) for p, _ in existing])
    return RESET_FRAMEWORK


def _freeze(partition: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(partition.items()))


def _check_primitive_map(value: Any, what: str) -> None:
    if not isinstance(value, dict):
        raise BadRequestError(f"The {what} of a source connector offset must be a JSON object")
    for key, item in value.items():
        if isinstance(item, dict | list):
            raise BadRequestError(
                f"Offsets may only contain primitive types as values, but field {key} contains {type(item).__name__}"
            )


def _as_int(value: Any, message: str) -> int:
    if isinstance(value, bool):
        raise BadRequestError(message)
    try:
        return int(str(value).strip())
    except ValueError:
        raise BadRequestError(message) from None


async def _alter_sink(
    herder: Herder, name: str, config: dict[str, str], entries: list[dict[str, Any]]
) -> None:
    commits: dict[TopicPartition, int] = {}
    deletes: list[TopicPartition] = []
    for entry in entries:
        partition = entry.get("partition")
        if partition is None:
            raise BadRequestError("The partition for a sink connector offset cannot be null or missing")
        if (
            not isinstance(partition, dict)
            or "kafka_topic" not in partition
            or "kafka_partition" not in partition
        ):
            raise BadRequestError(
                "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'"
            )
        topic = partition["kafka_topic"]
        if not isinstance(topic, str):
            raise BadRequestError("Kafka topic names must be valid strings and may not be null")
        if partition["kafka_partition"] is None:
            raise BadRequestError("Kafka partitions must be valid numbers and may not be null")
        number = _as_int(
            partition["kafka_partition"],
            f"Failed to parse the following Kafka partition value in the provided offsets: "
            f"'{partition['kafka_partition']}'. Partition values for sink connectors need to be integers.",
        )
        tp = TopicPartition(topic, number)
        offset = entry.get("offset")
        if offset is None:
            deletes.append(tp)
            continue
        if not isinstance(offset, dict) or "kafka_offset" not in offset:
            raise BadRequestError(
                "The offset for a sink connector should either be null or contain the key 'kafka_offset'"
            )
        commits[tp] = _as_int(
            offset["kafka_offset"],
            f"Failed to parse the following Kafka offset value in the provided offsets: '{offset['kafka_offset']}'. "
            "Offset values for sink connectors need to be integers.",
        )
    group = sink_group(config, name)
    if await herder.ctx.bus.group_active(group):
        raise ConnectError(
            f"Failed to alter consumer group offsets for connector {name} either because its tasks haven't stopped "
            "completely yet or the connector was resumed before the request to alter its offsets could be "
            "successfully completed. If the connector is in a stopped state, this operation can be safely retried. "
            "If it doesn't eventually succeed, the Connect cluster may need to be restarted to get rid of the "
            "zombie sink tasks."
        )
    if commits:
        await herder.ctx.bus.commit_group(group, commits)
    if deletes:
        await herder.ctx.bus.delete_group_offsets(group, deletes)
