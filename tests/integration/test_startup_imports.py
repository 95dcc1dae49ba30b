"""A worker running a file job never imports the client libraries of connectors it does not run.

Guards the start-up time (issue 14: process start to first record within 1 s): a worker loads
every installed connector class at start to learn its names, and before the connectors' task
classes and connection checks were loaded lazily that pulled in the Elasticsearch client,
asyncpg and the PostgreSQL replication task, about 0.4 s, for a job that moves lines between two
files. Deterministic, not timed: the worker runs with ``PYTHONPROFILEIMPORTTIME=1`` (the
``-X importtime`` switch) and the test reads the modules it imported from its log. That log has
every module an ``import`` statement loads, but not those ``importlib.import_module`` loads itself
(entry points, lazy classes), so the test looks for the libraries, which plain imports bring in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.server import ServerProcess, wait_until

pytestmark = pytest.mark.integration

HEAVY = {"elasticsearch", "elastic_transport", "aiohttp", "asyncpg", "asyncmy"}
"""Top-level packages only the Elasticsearch, PostgreSQL and JDBC connectors need."""


def imported_modules(log: str) -> set[str]:
    """Module names from ``import time: self | cumulative | name`` lines (import statements only)."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in log.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }


def test_an_embedded_file_job_runs_without_importing_other_connectors_clients(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPROFILEIMPORTTIME", "1")
    source, sink = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_text("first\nsecond\n")
    server = ServerProcess(tmp_path / "data").start()
    try:
        server.create(
            "startup-src", {"connector.class": "FileStreamSource", "file": str(source), "topic": "t"}
        )
        server.create("startup-sink", {"connector.class": "FileStreamSink", "file": str(sink), "topics": "t"})
        wait_until(lambda: sink.exists() and sink.read_text() == "first\nsecond\n", message="no records")
        plugins = server.client.get("/connector-plugins").json()  # lists every connector by its class
    finally:
        server.close()
    modules = imported_modules(server.log())
    # the log is there, and discovery loaded the other connectors (their config models)
    assert {
        "connectors.file.paths",
        "connectors.elasticsearch.config",
        "connectors.postgres.config",
    } <= modules
    assert {p["class"] for p in plugins} >= {
        "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector",
        "io.debezium.connector.postgresql.PostgresConnector",
    }
    assert sorted(m for m in modules if m.split(".")[0] in HEAVY) == []
    assert not {"connectors.postgres.pgwire", "connectors.elasticsearch.client"} & modules  # task chains
