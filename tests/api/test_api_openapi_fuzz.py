"""A bounded schemathesis run against a worker of its own: the API does what ``/openapi.json`` says.

Schemathesis creates, changes and deletes connectors with generated configs, so this module's
worker (the ``api`` fixture is one worker per module) serves nothing else. Deterministic
generation keeps the run the same every time; it takes about 20 seconds.

Checks left out: ``positive_data_acceptance`` (whether a config is valid depends on the
installed plugins, which no schema can say), ``ignored_auth`` and ``object_level_authorization``
(the API has no authentication yet).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.api_helpers import FILE_SINK, FILE_SOURCE, uid
from tests.support.server import ServerProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "use_after_free",
    "ensure_resource_availability",
)


def _config(tmp_path: Path, connectors: list[str]) -> Path:
    """Real names half of the time, so generated requests also reach existing resources."""
    names = ", ".join(f'"{name}"' for name in connectors)
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        f"""
[dictionaries.plugins]
values = ["FileStreamSource", "FileStreamSink", "{FILE_SINK}", "JsonConverter"]
[dictionaries.connectors]
values = [{names}]
[dictionaries.tasks]
values = [0]
[parameters]
"path.plugin" = {{ dictionary = "plugins", probability = 0.5 }}
"path.name" = {{ dictionary = "connectors", probability = 0.5 }}
"path.task" = {{ dictionary = "tasks", probability = 0.5 }}
"""
    )
    return config


def test_schemathesis_finds_no_difference_between_the_document_and_the_api(
    api: ServerProcess, tmp_path: Path
) -> None:
    lines = tmp_path / "in.txt"
    lines.write_text("one\ntwo\n")
    topic = uid("fuzz")
    source, sink = uid("fuzz-src"), uid("fuzz-sink")
    api.create(source, {"connector.class": FILE_SOURCE, "file": str(lines), "topic": topic})
    api.create(sink, {"connector.class": FILE_SINK, "file": str(tmp_path / "out.txt"), "topics": topic})
    st = Path(sys.executable).with_name("st")
    result = subprocess.run(
        [
            str(st),
            "--config-file",
            str(_config(tmp_path, [source, sink])),
            "run",
            f"{api.url}/openapi.json",
            "--checks",
            ",".join(CHECKS),
            "--max-examples",
            "50",
            "--generation-deterministic",
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--continue-on-failure",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-3000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", result.stdout)
    assert counts and counts[1] == counts[2] and int(counts[1]) > 1000, result.stdout[-3000:]
