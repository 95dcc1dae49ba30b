"""The field transforms are installed plugins answering to Kafka Connect's class names, found by
the registry exactly as a connector config names them."""

from __future__ import annotations

import pytest

from app.plugins.registry import PluginRegistry

KAFKA = "org.apache.kafka.connect.transforms."
NAMES = [
    *(
        f"{name}${side}"
        for name in (
            "ReplaceField",
            "MaskField",
            "ExtractField",
            "HoistField",
            "Flatten",
            "SetSchemaMetadata",
        )
        for side in ("Key", "Value")
    ),
    "ValueToKey",
]


@pytest.mark.parametrize("name", NAMES)
def test_resolves_by_kafka_class_name(name: str) -> None:
    desc = PluginRegistry().resolve(KAFKA + name, ["transformation"])
    assert desc.class_name == KAFKA + name
    assert desc.cls is not None and desc.cls.aliases == (KAFKA + name,)
    side = name.partition("$")[2]
    if side:
        assert desc.cls.side.value == side.lower()


def test_value_to_key_answers_to_its_simple_name() -> None:
    desc = PluginRegistry().resolve("ValueToKey", ["transformation"])
    assert desc.class_name == KAFKA + "ValueToKey"
