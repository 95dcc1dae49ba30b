"""Where a record goes: the index (or data stream) named after its topic, as Confluent names it."""

from __future__ import annotations

from connectors.elasticsearch.config import ElasticsearchSinkConfig

MAX_INDEX_NAME = 255
MAX_NAMESPACE = 100


def index_for_topic(topic: str) -> str:
    """Confluent's ``convertTopicToIndexName``: lowercased, at most 255 characters, one leading
    ``-`` or ``_`` removed, ``.``/``..`` spelled ``dot``/``dotdot``. Other characters
    Elasticsearch refuses (``*``, ``?``, spaces...) are left for it to reject, as Confluent does:
    rename such topics with RegexRouter."""
    index = topic.lower()[:MAX_INDEX_NAME]
    if index.startswith(("-", "_")):
        index = index[1:]
    if index in (".", ".."):
        index = index.replace(".", "dot")
    return index


def data_stream_for_topic(config: ElasticsearchSinkConfig, topic: str) -> str:
    """``<type>-<dataset>-<namespace>``, e.g. ``logs-app-orders``; ``${topic}`` in the namespace
    is the lowercased topic cut to 100 characters."""
    namespace = config.data_stream_namespace.replace("${topic}", topic.lower()[:MAX_NAMESPACE])
    return f"{config.data_stream_type.value.lower()}-{config.data_stream_dataset}-{namespace}"


class IndexNames:
    """Resolves and caches the target name of each topic (the legacy ``topic.index.map`` first)."""

    def __init__(self, config: ElasticsearchSinkConfig) -> None:
        self._config = config
        self._mapped = dict(entry.split(":", 1) for entry in config.topic_index_map)
        self._cache: dict[str, str] = {}

    def __call__(self, topic: str) -> str:
        name = self._cache.get(topic)
        if name is None:
            if topic in self._mapped:
                name = self._mapped[topic]
            elif self._config.is_data_stream:
                name = data_stream_for_topic(self._config, topic)
            else:
                name = index_for_topic(topic)
            self._cache[topic] = name
        return name
