"""The per-connector record pipeline: converters and the transformation chain.

Built once per task from the connector config layered over the worker defaults
(``key.converter``, ``value.converter.schemas.enable``, ``transforms=a,b`` with
``transforms.a.type`` ...), so the runners only call ``apply`` and ``convert``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.config.connector_config import CommonConnectorConfig
from app.errors.tolerance import ErrorHandler, Stage
from app.plugins.registry import PluginRegistry
from app.settings import WorkerSettings
from app.storage.base import FetchedRecord
from connectors.sdk.config import PluginConfig
from connectors.sdk.converter import Converter, HeaderConverter, has_batch_hooks
from connectors.sdk.errors import ConfigError
from connectors.sdk.records import ConnectRecord
from connectors.sdk.transform import Predicate, Transformation


@dataclass(slots=True)
class Converters:
    key: Converter
    value: Converter
    header: HeaderConverter
    key_hooks: bool = False
    value_hooks: bool = False
    """Whether the key/value converter has async batch hooks (``prepare_*``) worth awaiting."""

    @property
    def has_hooks(self) -> bool:
        return self.key_hooks or self.value_hooks

    async def prepare_batch(
        self,
        errors: ErrorHandler,
        *,
        to_connect: bool,
        keys: Sequence[Any],
        values: Sequence[Any],
        records: Sequence[tuple[FetchedRecord | None, Any, Any]],
        sleep: Callable[[float], Awaitable[None]],
    ) -> bool:
        """Await the key and value converters' batch hooks once for the batch; False when a hook
        failed and every record of the batch was tolerated (so none of them is converted)."""
        for wanted, stage, converter, items in (
            (self.key_hooks, Stage.KEY_CONVERTER, self.key, keys),
            (self.value_hooks, Stage.VALUE_CONVERTER, self.value, values),
        ):
            hook = converter.prepare_to_connect if to_connect else converter.prepare_from_connect
            if wanted and not await errors.run_batch_hook(stage, hook, items, records, sleep):
                return False
        return True

    async def close(self) -> None:
        for converter in (self.key, self.value, self.header):
            await converter.close()


def build_converters(
    registry: PluginRegistry, settings: WorkerSettings, config: CommonConnectorConfig
) -> Converters:
    def make(kind: str) -> Any:
        connector_level = getattr(config, f"{kind}_converter")
        name = connector_level or getattr(settings, f"{kind}_converter")
        extra = (
            config.with_prefix(f"{kind}.converter.")
            if connector_level
            else settings.with_prefix(f"{kind}.converter.")
        )
        group = "header_converter" if kind == "header" else "converter"
        desc = registry.resolve(name, (group,))
        instance = desc.new()
        parsed = instance.config_model.parse(extra)  # converters get their model, as transforms do
        if kind == "header":
            instance.configure(parsed)
        else:
            instance.configure(parsed, is_key=kind == "key")
        return instance

    key, value = make("key"), make("value")
    return Converters(key, value, make("header"), has_batch_hooks(key), has_batch_hooks(value))


@dataclass(slots=True)
class _Step:
    alias: str
    transform: Transformation[Any]
    predicate: Predicate[Any] | None
    negate: bool


class TransformChain:
    """Runs the transforms in order; a transform returning None drops the record.

    When a step raises, :attr:`failed_class` names the transform (or its predicate) that did, so
    the error handler reports that class (Kafka's ``__connect.errors.class.name``) rather than the
    chain: a user with five transforms needs to know which one broke. :attr:`failed_alias` is the
    step's alias in ``transforms=...``.
    """

    def __init__(self, steps: list[_Step]) -> None:
        self._steps = steps
        self.failed_class: str | None = None
        self.failed_alias: str | None = None

    def __bool__(self) -> bool:
        return bool(self._steps)

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        current: ConnectRecord | None = record
        for step in self._steps:
            if current is None:
                return None
            try:
                if step.predicate is not None and step.predicate.test(current) == step.negate:
                    continue
            except Exception:
                self.failed_class, self.failed_alias = plugin_class_name(step.predicate), step.alias
                raise
            try:
                current = step.transform.apply(current)
            except Exception:
                self.failed_class, self.failed_alias = plugin_class_name(step.transform), step.alias
                raise
        return current

    def close(self) -> None:
        for step in self._steps:
            step.transform.close()


def plugin_class_name(plugin: object) -> str:
    """The name users know a plugin by: its first alias (a Kafka Connect class name), else its
    Python path."""
    aliases = getattr(plugin, "aliases", ())
    if aliases:
        return str(aliases[0])
    cls = type(plugin)
    return f"{cls.__module__}.{cls.__qualname__}"


def _configure(plugin: Any, model: type[PluginConfig], props: Mapping[str, str]) -> None:
    plugin.configure(model.parse(props))


def build_transforms(registry: PluginRegistry, config: CommonConnectorConfig) -> TransformChain:
    predicates: dict[str, Predicate[Any]] = {}
    for alias in config.predicates:
        props = config.with_prefix(f"predicates.{alias}.")
        desc = registry.resolve(props.get("type", ""), ("predicate",))
        predicate: Predicate[Any] = desc.new()
        _configure(predicate, predicate.config_model, props)
        predicates[alias] = predicate
    steps = []
    for alias in config.transforms:
        props = config.with_prefix(f"transforms.{alias}.")
        desc = registry.resolve(props.get("type", ""), ("transformation",))
        transform: Transformation[Any] = desc.new()
        _configure(transform, transform.config_model, props)
        predicate_alias = props.get("predicate")
        if predicate_alias and predicate_alias not in predicates:
            raise ConfigError(f"Transform {alias} refers to an undefined predicate {predicate_alias}")
        negate = props.get("negate", "false").strip().lower() == "true"
        steps.append(_Step(alias, transform, predicates.get(predicate_alias or ""), negate))
    return TransformChain(steps)
