"""Kafka Connect's predicates (reference §7.17): ``TopicNameMatches``, ``HasHeaderKey`` and
``RecordIsTombstone``, answering to ``org.apache.kafka.connect.transforms.predicates.*``."""

from __future__ import annotations

from typing import ClassVar

from connectors.sdk.config import PluginConfig, setting
from connectors.sdk.records import ConnectRecord
from connectors.sdk.transform import Predicate
from connectors.transforms.checks import NonEmptyJavaRegex, NonEmptyString
from connectors.transforms.java_regex import compile_java
from connectors.transforms.operand import KAFKA_TRANSFORMS

KAFKA_PREDICATES = KAFKA_TRANSFORMS + "predicates."


class TopicNameMatchesConfig(PluginConfig):
    pattern: NonEmptyJavaRegex = setting(
        doc="A Java regular expression for matching against the name of a record's topic."
    )


class TopicNameMatches(Predicate[ConnectRecord]):
    """True when the Java regex matches the whole topic name."""

    config_model = TopicNameMatchesConfig
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_PREDICATES + "TopicNameMatches",)

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, TopicNameMatchesConfig)
        self._pattern = compile_java(config.pattern)
        self._answers: dict[str, bool] = {}  # per topic: records of a topic share the answer

    def test(self, record: ConnectRecord) -> bool:
        topic = record.topic
        if topic is None:
            return False
        answer = self._answers.get(topic)
        if answer is None:
            answer = self._pattern.fullmatch(topic) is not None
            if len(self._answers) >= 1024:
                self._answers.clear()
            self._answers[topic] = answer
        return answer


class HasHeaderKeyConfig(PluginConfig):
    name: NonEmptyString = setting(doc="The header name.")


class HasHeaderKey(Predicate[ConnectRecord]):
    """True when at least one header has the configured key."""

    config_model = HasHeaderKeyConfig
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_PREDICATES + "HasHeaderKey",)

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, HasHeaderKeyConfig)
        self._name = config.name

    def test(self, record: ConnectRecord) -> bool:
        return any(header.key == self._name for header in record.headers)


class RecordIsTombstone(Predicate[ConnectRecord]):
    """True when the record's value is null, whatever its value schema."""

    aliases: ClassVar[tuple[str, ...]] = (KAFKA_PREDICATES + "RecordIsTombstone",)

    def test(self, record: ConnectRecord) -> bool:
        return record.value is None
