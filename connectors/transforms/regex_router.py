"""``RegexRouter``: rename the topic when a Java regex matches all of it (reference §7.11).

The replacement uses Java's syntax (``$1``, ``${name}``, ``\\$``), run by
:class:`~connectors.transforms.java_regex.JavaReplacement`: a broken reference raises Java's
exception for every matching record, as Kafka does at apply time. Beyond Kafka, a replacement
whose group references cannot work (``$topic``, ``$3`` with two groups, ``${x}`` with no such
group) is refused when the config is validated, with a message that says how to write it.
"""

from __future__ import annotations

from typing import ClassVar, Final, Self

from pydantic import model_validator

from connectors.sdk.config import PluginConfig, SettingError, setting
from connectors.sdk.errors import DataError
from connectors.sdk.records import ConnectRecord
from connectors.sdk.transform import Transformation
from connectors.transforms.checks import JavaRegex
from connectors.transforms.java_regex import JavaReplacement, ReplacementError, compile_java
from connectors.transforms.operand import KAFKA_TRANSFORMS

_ROUTES_KEPT: Final = 1024


class RegexRouterConfig(PluginConfig):
    regex: JavaRegex = setting(doc="Regular expression to use for matching.")
    replacement: str = setting(doc="Replacement string.")

    @model_validator(mode="after")
    def _references_work(self) -> Self:
        problem = JavaReplacement.parse(self.replacement, compile_java(self.regex)).reference_problem()
        if problem is not None:
            raise SettingError("replacement", problem)
        return self


class ReplacementFailed(DataError):
    """Java's exception from ``Matcher.replaceFirst``; ``java_class`` names it for error reports."""

    def __init__(self, cause: ReplacementError) -> None:
        super().__init__(cause.message)
        self.java_class = cause.java_class


class RegexRouter(Transformation[ConnectRecord]):
    config_model = RegexRouterConfig
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "RegexRouter",)

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, RegexRouterConfig)
        self._regex = compile_java(config.regex)
        self._replacement = JavaReplacement.parse(config.replacement, self._regex)
        self._routes: dict[str, str | None] = {}

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        topic = record.topic
        try:
            routed = self._routes[topic]
        except KeyError:
            routed = self._route(topic)
            if len(self._routes) >= _ROUTES_KEPT:
                self._routes.clear()
            self._routes[topic] = routed
        return record if routed is None else record.new_record(topic=routed)

    def _route(self, topic: str) -> str | None:
        """The new name of ``topic``, or None to leave it; records of a topic share the answer,
        which is kept so the regex runs once per topic, not per record."""
        if self._regex.fullmatch(topic) is None:
            return None
        # Kafka checks matches() then calls replaceFirst(), which replaces the first match a
        # search finds (the same span unless alternation or laziness prefers a shorter one)
        try:
            return self._regex.sub(self._replacement.expand, topic, count=1)
        except ReplacementError as exc:
            raise ReplacementFailed(exc) from None
