"""A test kit for connector authors: run a connector's tasks in memory, without a worker.

    async with SourceHarness(MySourceConnector, {"topic": "t", ...}) as harness:
        records = await harness.poll(count=10)
        await harness.commit()                  # offsets "durably stored", task.commit() called
        await harness.restart_task()            # a new task instance resumes from them

    async with SinkHarness(MySinkConnector, {"topics": "t", ...}) as harness:
        await harness.put(sink_records("t", ["a", "b"]))
        await harness.commit()                  # pre_commit, as before a consumer offset commit

    check_config(MySourceConnector, {"topic": ""})   # {"topic": ["Invalid value ..."]}

The harnesses follow the runtime's contract (see :mod:`connectors.sdk.source` and
:mod:`connectors.sdk.sink`) but never sleep on backoffs: what the runtime would have waited is
recorded instead, so tests stay fast. Imports only ``connectors.sdk``.
"""

from connectors.sdk.testing.config import check_config, configured_converter, configured_header_converter
from connectors.sdk.testing.sink import RecordingErrantReporter, SinkHarness, sink_records
from connectors.sdk.testing.source import InMemoryOffsetStore, SourceHarness

__all__ = [
    "InMemoryOffsetStore",
    "RecordingErrantReporter",
    "SinkHarness",
    "SourceHarness",
    "check_config",
    "configured_converter",
    "configured_header_converter",
    "sink_records",
]
