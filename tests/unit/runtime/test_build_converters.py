"""build_converters hands each converter its parsed config model, with the role's prefix removed."""

from __future__ import annotations

import pytest

from app.config.connector_config import SinkConnectorConfig
from app.plugins.registry import PluginRegistry
from app.runtime.pipeline import build_converters
from app.settings import WorkerSettings
from connectors.converters.json import JsonConverter, JsonConverterConfig
from connectors.converters.string import StringConverter, StringConverterConfig
from connectors.sdk import ConfigError


def _config(props: dict[str, str]) -> SinkConnectorConfig:
    return SinkConnectorConfig.from_props({"name": "c", "connector.class": "FileStreamSink", **props})


def test_converters_receive_their_parsed_config_model() -> None:
    converters = build_converters(
        PluginRegistry(),
        WorkerSettings(),
        _config(
            {
                "key.converter": "StringConverter",
                "key.converter.converter.encoding": "ISO-8859-1",
                "value.converter": "JsonConverter",
                "value.converter.schemas.enable": "false",
            }
        ),
    )
    assert isinstance(converters.key, StringConverter) and converters.key.is_key
    assert converters.key.config == StringConverterConfig(converter_encoding="ISO-8859-1")
    assert isinstance(converters.value, JsonConverter) and not converters.value.is_key
    assert converters.value.config == JsonConverterConfig(schemas_enable=False)
    assert converters.value.from_connect_data("t", None, {"a": 1}) == b'{"a":1}'


def test_an_invalid_converter_setting_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Unsupported character encoding: nope"):
        build_converters(
            PluginRegistry(),
            WorkerSettings(),
            _config({"value.converter": "StringConverter", "value.converter.converter.encoding": "nope"}),
        )
