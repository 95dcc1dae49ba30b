"""Tails a file (or standard input) and emits one record per line.

Compatible with ``org.apache.kafka.connect.file.FileStreamSourceConnector``: same settings,
the same source partition ``{"filename": <file>}`` and offset ``{"position": <byte offset after
the line>}``. Differences: ``position`` is always a byte offset (Java counts characters but
seeks bytes, which only agree for ASCII), and an idle task looks for new data after 100 ms,
then backs off to twice a second (Java: always once a second), so lines appended to a busy
file arrive with far less latency while thousands of idle tasks cost next to nothing.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from typing import IO, Any

from connectors.file.paths import check_file, permitted_path, source_file_problem
from connectors.sdk import (
    ConfigError,
    ConfigValueInfo,
    Importance,
    PluginConfig,
    SourceConnector,
    SourceRecord,
    SourceTask,
    setting,
)
from connectors.sdk.data import STRING_SCHEMA

IDLE_WAIT_MIN_S = 0.1
IDLE_WAIT_MAX_S = 0.5
"""An idle task waits twice as long after each empty look, up to this (and ``poll_timeout``)."""
READ_CHUNK = 1 << 20


class FileStreamSourceConfig(PluginConfig):
    file: str | None = setting(
        None,
        doc=(
            "Source filename. If not specified, the standard input will be used. "
            "A file that does not exist yet is waited for, in a directory that must exist"
        ),
        importance=Importance.HIGH,
    )
    topic: str = setting(doc="The topic to publish data to", importance=Importance.HIGH, min_length=1)
    batch_size: int = setting(
        2000,
        doc="The maximum number of records the source task can read from the file each time it is polled",
        importance=Importance.LOW,
        ge=1,
    )


class FileStreamSourceTask(SourceTask[FileStreamSourceConfig]):
    config_model = FileStreamSourceConfig

    async def start(self, config: FileStreamSourceConfig) -> None:
        self.config = config
        self.filename = config.file or None
        self.partition: dict[str, Any] | None = {"filename": self.filename} if self.filename else None
        self.position = 0
        if self.partition is not None:
            stored = await self.context.offset(self.partition)
            if stored is not None:
                self.position = int(stored.get("position", 0))
        self._stream: IO[bytes] | None = None
        self._buffer = b""
        self._idle_wait = IDLE_WAIT_MIN_S

    async def poll(self) -> Sequence[SourceRecord]:
        if self._stream is None and not await self._open():
            await self._idle()
            return []
        records = self._take_lines()
        if not records and self._grew():
            chunk = await self.context.run_blocking(self._read)
            if chunk:
                self._buffer += chunk
                records = self._take_lines()
        if records:
            self._idle_wait = IDLE_WAIT_MIN_S
        else:
            await self._idle()
        return records

    def _grew(self) -> bool:
        """Whether the file holds bytes not read yet. An ``fstat`` of the open descriptor is one
        cheap system call, so an idle task skips the thread-pool round trip of a read."""
        stream = self._stream
        if stream is None or stream is sys.stdin.buffer:
            return True
        try:
            return os.fstat(stream.fileno()).st_size > self.position + len(self._buffer)
        except OSError:
            return True  # the read reports the problem

    async def _idle(self) -> None:
        """Wait before the next look (backing off while nothing arrives), but return within
        ``poll_timeout`` and at once when the task is stopping."""
        wait = min(self._idle_wait, self.context.poll_timeout)
        self._idle_wait = min(self._idle_wait * 2, IDLE_WAIT_MAX_S)
        try:
            async with asyncio.timeout(wait):
                await self.context.stopping.wait()
        except TimeoutError:
            pass

    async def _open(self) -> bool:
        if self.filename is None:
            self._stream = sys.stdin.buffer
            return True
        # One stat of a local path costs microseconds; the thread-pool round trip of a failing
        # open() cost idle workers with thousands of waiting tasks a good part of a core.
        if not os.path.exists(self.filename):  # noqa: ASYNC240
            return False
        real = permitted_path(self.filename)  # resolved before the check, opened as checked
        try:
            self._stream = await self.context.run_blocking(self._open_at, real, self.position)
        except FileNotFoundError:
            return False
        except OSError as exc:  # a directory, or unreadable: waiting will not help
            problem = await self.context.run_blocking(source_file_problem, self.filename)
            if problem is None:
                raise
            raise ConfigError(f"Cannot read {self.filename}: {problem}") from exc
        return True

    @staticmethod
    def _open_at(filename: str, position: int) -> IO[bytes]:
        stream = open(filename, "rb")  # noqa: SIM115 - kept open across polls, closed in stop()
        stream.seek(position)
        return stream

    def _read(self) -> bytes:
        assert self._stream is not None
        if self._stream is sys.stdin.buffer:
            return self._stream.readline()
        return self._stream.read(READ_CHUNK)

    def _take_lines(self) -> list[SourceRecord]:
        """Complete lines from the buffer; a trailing ``\\r`` waits to see if ``\\n`` follows."""
        buf = self._buffer
        limit = self.config.batch_size
        if b"\r" not in buf:  # the common case: one C-level split instead of a scan per line
            parts = buf.split(b"\n", limit)
            self._buffer = parts.pop()
            return self._records(parts)
        out: list[SourceRecord] = []
        start = 0
        while len(out) < limit:
            nl = buf.find(b"\n", start)
            cr = buf.find(b"\r", start)
            if cr != -1 and (nl == -1 or cr < nl):
                if cr + 1 == len(buf):
                    break  # decide on the next read whether this is \r or \r\n
                end, after = cr, cr + (2 if buf[cr + 1 : cr + 2] == b"\n" else 1)
            elif nl != -1:
                end, after = nl, nl + 1
            else:
                break
            out.append(self._record(buf[start:end], after - start))
            start = after
        self._buffer = buf[start:]
        return out

    def _records(self, lines: list[bytes]) -> list[SourceRecord]:
        """:meth:`_record` for whole lines ending in ``\\n``, in one loop with the constants hoisted:
        this is the file source's per-record cost."""
        topic, partition, position = self.config.topic, self.partition, self.position
        out: list[SourceRecord] = []
        add = out.append
        for line in lines:
            position += len(line) + 1
            add(
                SourceRecord(
                    topic,
                    line.decode("utf-8", "replace"),
                    STRING_SCHEMA,
                    None,
                    None,
                    None,
                    None,
                    (),
                    partition,
                    {"position": position} if partition else None,
                )
            )
        self.position = position
        return out

    def _record(self, line: bytes, consumed: int) -> SourceRecord:
        self.position += consumed
        return SourceRecord(
            topic=self.config.topic,
            value=line.decode("utf-8", errors="replace"),
            value_schema=STRING_SCHEMA,
            source_partition=self.partition,
            source_offset={"position": self.position} if self.partition else None,
        )

    async def stop(self) -> None:
        stream = getattr(self, "_stream", None)
        if stream is not None and stream is not sys.stdin.buffer:
            stream.close()


class FileStreamSourceConnector(SourceConnector[FileStreamSourceConfig]):
    config_model = FileStreamSourceConfig
    task_class = FileStreamSourceTask
    aliases = ("org.apache.kafka.connect.file.FileStreamSourceConnector",)

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [{}]  # one task reads the file; task configs are layered over the connector config

    def validate(self, props: dict[str, str]) -> list[ConfigValueInfo]:
        """Also checks that ``file`` can be read on this worker, or can appear in an existing directory."""
        return check_file(super().validate(props), props, sink=False)

    async def alter_offsets(self, config: dict[str, str], offsets: dict[Any, Any]) -> bool:
        if not config.get("file"):
            raise ValueError(
                "Offsets cannot be modified: stdin is used for input and offsets are not tracked"
            )
        for partition, offset in offsets.items():
            if "filename" not in dict(partition):
                raise ValueError("The partition of a FileStreamSource offset must contain the key 'filename'")
            if offset is not None:
                position = offset.get("position")
                if not isinstance(position, int) or isinstance(position, bool) or position < 0:
                    raise ValueError(
                        "The offset of a FileStreamSource partition must contain 'position' as a "
                        f"non-negative integer, not {position!r}"
                    )
        return True
