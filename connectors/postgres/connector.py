"""The PostgreSQL source connector: Debezium's class name, one task, validation against the server.

``validate`` checks the settings alone (synchronous, per key); ``validate_connection`` then logs
in and checks the server (``checks.py``), so ``PUT /connector-plugins/PostgresConnector/config/validate``
and a create with a config that cannot work answer with what to fix, per key.

The task (snapshot, then streaming) is :class:`connectors.postgres.task.PostgresSourceTask`.
"""

from __future__ import annotations

import logging
from typing import Any

from connectors.postgres.config import DEBEZIUM_CLASS, PostgresConfig, apply_legacy_names
from connectors.sdk import ConfigError, ConfigValueInfo, SourceConnector, lazy_class

log = logging.getLogger(__name__)


class PostgresConnector(SourceConnector[PostgresConfig]):
    config_model = PostgresConfig
    task_class = lazy_class("connectors.postgres.task:PostgresSourceTask")
    """Imported on first use, with the replication protocol and asyncpg (the checks), so that
    discovering this connector at start costs only its config model."""
    aliases = (DEBEZIUM_CLASS,)

    async def start(self, config: PostgresConfig) -> None:
        self.config = config

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        """Always exactly one task, whatever ``tasks.max`` says (as Debezium: one slot, one stream)."""
        return [{}]

    def validate(self, props: dict[str, str]) -> list[ConfigValueInfo]:
        """Per-key checks, with Debezium 1.x names (``database.server.name``, ``table.whitelist``, ...)
        shown under the current names they stand in for."""
        mapped: dict[str, Any] = apply_legacy_names(props)
        return self.config_model.validate_props(mapped)

    async def validate_connection(self, props: dict[str, str]) -> dict[str, list[str]]:
        """Logs in and checks the server (wal_level, privileges, slot, publication); warnings,
        such as an include-list table that does not exist yet, are logged."""
        try:
            config = PostgresConfig.parse(props)
        except ConfigError:
            return {}  # the per-key errors are already reported
        from connectors.postgres.checks import check_connection  # asyncpg, on use

        report = await check_connection(config, props.get("name"))
        for warning in report.warnings:
            log.warning("%s", warning)
        return report.errors
