"""Appends each record's value as one line to a file (or standard output).

Compatible with ``org.apache.kafka.connect.file.FileStreamSinkConnector``. Deliberate
difference: structured values (maps, structs, lists) are written as compact JSON instead of
Java's ``toString()``; strings are written as they are, null as ``null``.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import os
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any

import orjson

from connectors.file.paths import check_file, permitted_path, sink_file_problem
from connectors.sdk import (
    ConfigError,
    ConfigValueInfo,
    Importance,
    PluginConfig,
    SinkConnector,
    SinkRecord,
    SinkTask,
    Struct,
    setting,
)
from connectors.sdk.records import TopicPartition


class FileStreamSinkConfig(PluginConfig):
    file: str | None = setting(
        None,
        doc=(
            "Destination filename. If not specified, the standard output will be used. "
            "Its directory must exist and be writable; the file is created if missing"
        ),
        importance=Importance.HIGH,
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, Struct):
        return value.to_dict()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def render_line(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, dict | list | tuple | Struct):
        return orjson.dumps(value, default=_json_default, option=orjson.OPT_PASSTHROUGH_DATACLASS).decode()
    return str(value)


class FileStreamSinkTask(SinkTask[FileStreamSinkConfig]):
    config_model = FileStreamSinkConfig

    async def start(self, config: FileStreamSinkConfig) -> None:
        self._stream: IO[str] = (
            await self.context.run_blocking(self._open, config.file) if config.file else sys.stdout
        )

    @staticmethod
    def _open(path: str) -> IO[str]:
        """A path that stopped working since the connector was created (its directory removed,
        say) fails the task with a ``ConfigError`` that says what to fix: no automatic restart."""
        real = permitted_path(path)  # resolved before the check, opened as checked
        try:
            return open(real, "a", encoding="utf-8")
        except OSError as exc:
            problem = sink_file_problem(path)
            if problem is None:
                raise
            raise ConfigError(f"Cannot write to {path}: {problem}") from exc

    async def put(self, records: Sequence[SinkRecord]) -> None:
        if records:
            text = "".join(render_line(r.value) + "\n" for r in records)
            await self.context.run_blocking(self._write, text)

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()  # visible to readers at once; made durable by flush()

    async def flush(self, offsets: Mapping[TopicPartition, int]) -> None:
        if self._stream is not sys.stdout:
            await self.context.run_blocking(os.fsync, self._stream.fileno())

    async def stop(self) -> None:
        stream = getattr(self, "_stream", None)
        if stream is not None and stream is not sys.stdout:
            stream.close()


class FileStreamSinkConnector(SinkConnector[FileStreamSinkConfig]):
    config_model = FileStreamSinkConfig
    task_class = FileStreamSinkTask
    aliases = ("org.apache.kafka.connect.file.FileStreamSinkConnector",)

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [{} for _ in range(max_tasks)]

    def validate(self, props: dict[str, str]) -> list[ConfigValueInfo]:
        """Also checks that ``file`` can be appended to (or created) on this worker."""
        return check_file(super().validate(props), props, sink=True)
