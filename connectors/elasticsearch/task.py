"""The sink task: records to bulk actions, indices and mappings created on first use, offsets
committed only for what Elasticsearch accepted, fetching paused while the buffer is full."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elasticsearch import ApiError, AsyncElasticsearch

from connectors.elasticsearch.bulk import RETRIABLE_EXCEPTIONS, BulkWriter
from connectors.elasticsearch.client import describe_failure, make_client
from connectors.elasticsearch.config import ElasticsearchSinkConfig
from connectors.elasticsearch.documents import Action, ActionBuilder
from connectors.elasticsearch.mapping import build_mapping
from connectors.sdk import ConnectError, DataError, RetriableError, SinkRecord, SinkTask, TopicPartition

log = logging.getLogger(__name__)


class ElasticsearchSinkTask(SinkTask[ElasticsearchSinkConfig]):
    config_model = ElasticsearchSinkConfig

    async def start(self, config: ElasticsearchSinkConfig) -> None:
        self.config = config
        if config.type_name:
            log.info(
                "type.name=%s is ignored: Elasticsearch 7 and later have no mapping types", config.type_name
            )
        self.client: AsyncElasticsearch = make_client(config)
        self.builder = ActionBuilder(config)
        self.writer = BulkWriter(
            self.client, config, self._report, self.context.details, self._apply_backpressure
        )
        self.writer.start()
        self._ready_indices: set[str] = set()
        self._paused_here = False
        self._written = self.context.metrics.counter(
            "elasticsearch_documents_written", "Documents Elasticsearch accepted"
        )
        self._reported_written = 0

    async def _report(self, record: SinkRecord, error: BaseException) -> None:
        reporter = self.context.errant_record_reporter
        if reporter is not None:
            await reporter.report(record, error)

    # -- put ----------------------------------------------------------------------------------------
    async def put(self, records: Sequence[SinkRecord]) -> None:
        self._raise_failure()
        actions: list[Action] = []
        for record in records:
            self.writer.progress.seen(record.original_topic_partition, record.original_offset)
            try:
                action = self.builder.build(record)
            except DataError as exc:
                if not self.config.drop_invalid_message:
                    raise
                log.warning("Can't convert the record to a document, dropping it: %s", exc)
                await self._report(record, exc)
                continue
            if action is not None:
                actions.append(action)
        await self._ensure_indices(actions)  # may raise RetriableError: nothing was buffered yet
        self.writer.add(actions)
        self._apply_backpressure()

    async def _ensure_indices(self, actions: list[Action]) -> None:
        """Create each new index (with a mapping from the value schema unless schemas are
        ignored) before its first document; Elasticsearch being unreachable here is retriable."""
        for action in actions:
            index = action.index
            if index in self._ready_indices:
                continue
            record = action.record
            mapping = None
            if not self.config.ignores_schema(record.topic) and record.value is not None:
                mapping = build_mapping(record.value_schema)
            try:
                await self._create_index(index, mapping)
            except (*RETRIABLE_EXCEPTIONS, TransportConnectionError, ApiError) as exc:
                if isinstance(exc, ApiError) and not (exc.meta.status == 429 or exc.meta.status >= 500):
                    raise ConnectError(f"Could not create index {index}: {describe_failure(exc)}") from exc
                reason = describe_failure(exc)
                self.writer.waiting(f"{reason}, retry in 1 s")
                raise RetriableError(f"Could not create index {index}: {reason}", retry_after=1.0) from exc
            self._ready_indices.add(index)
            self.writer.waiting(None)

    async def _create_index(self, index: str, mapping: dict[str, Any] | None) -> None:
        indices = self.client.indices
        if self.config.is_data_stream:
            try:
                await indices.create_data_stream(name=index)
            except ApiError as exc:
                if "already_exists" not in str(exc.message) and exc.meta.status != 409:
                    raise
            return
        try:
            await indices.create(index=index, mappings=mapping)
            return
        except ApiError as exc:
            if "resource_already_exists_exception" not in str(exc.message):
                raise
        if mapping is not None:
            current = await indices.get_mapping(index=index)
            has_mapping = any((m.get("mappings") or {}).get("properties") for m in current.body.values())
            if not has_mapping:
                await indices.put_mapping(index=index, properties=mapping["properties"])

    def _apply_backpressure(self) -> None:
        """Pause fetching while the buffer holds ``max.buffered.records``; resume below it."""
        full = self.writer.buffered >= self.config.max_buffered_records
        if full and not self._paused_here:
            self.context.pause(*self.context.assignment)
            self._paused_here = True
            self.context.details.set(buffer_full=True)
        elif not full and self._paused_here:
            self.context.resume(*self.context.assignment)
            self._paused_here = False
            self.context.details.set(buffer_full=None)

    def _raise_failure(self) -> None:
        failure = self.writer.failure
        if failure is not None:
            if isinstance(failure, ConnectError):
                raise failure
            raise ConnectError(f"Writing to Elasticsearch failed: {failure}") from failure

    # -- commit -------------------------------------------------------------------------------------
    async def pre_commit(self, offsets: Mapping[TopicPartition, int]) -> Mapping[TopicPartition, int]:
        """The offsets of what Elasticsearch accepted (and, with ``flush.synchronously``, after
        waiting for what is in flight); also where a paused fetch resumes."""
        self._raise_failure()
        if self.config.flush_synchronously:
            try:
                await self.writer.wait_settled(self.config.flush_timeout_ms / 1000)
            except TimeoutError:
                log.warning(
                    "flush.timeout.ms passed with documents still unwritten; committing what was written"
                )
            self._raise_failure()
        self._apply_backpressure()
        written = self.writer.documents_written
        self._written.inc(written - self._reported_written)
        self._reported_written = written
        safe: dict[TopicPartition, int] = {}
        for tp, offset in offsets.items():
            position = self.writer.progress.safe(tp)
            safe[tp] = offset if position is None else min(offset, position)
        return safe

    async def close(self, partitions: Collection[TopicPartition]) -> None:
        self.writer.drop(set(partitions))

    async def stop(self) -> None:
        writer = getattr(self, "writer", None)
        if writer is not None:
            await writer.stop()
        client = getattr(self, "client", None)
        if client is not None:
            await client.close()
