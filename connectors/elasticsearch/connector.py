"""The Elasticsearch sink connector: Confluent's class name, one task per ``tasks.max``, and a
connection check (reachable, credentials, version) for ``/config/validate`` and create."""

from __future__ import annotations

from connectors.elasticsearch.config import CONFLUENT_CLASS, ElasticsearchSinkConfig
from connectors.sdk import ConfigError, SinkConnector, lazy_class


class ElasticsearchSinkConnector(SinkConnector[ElasticsearchSinkConfig]):
    config_model = ElasticsearchSinkConfig
    task_class = lazy_class("connectors.elasticsearch.task:ElasticsearchSinkTask")
    """Imported on first use: the Elasticsearch client costs ~0.5 s to import, and a worker
    discovers every installed connector at start, whether it runs it or not."""
    aliases = (CONFLUENT_CLASS,)

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [{} for _ in range(max_tasks)]

    async def validate_connection(self, props: dict[str, str]) -> dict[str, list[str]]:
        try:
            config = ElasticsearchSinkConfig.parse(props)
        except ConfigError:
            return {}  # the per-key errors are already reported
        from connectors.elasticsearch.client import check_connection  # the heavy client, on use

        return await check_connection(config)
