"""``lazy_class``: a connector's task class is imported the first time it is asked for."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from connectors.sdk import LazyClass, SourceConnector, lazy_class
from connectors.sdk.config import EmptyConfig


class Lazy(SourceConnector[EmptyConfig]):
    config_model = EmptyConfig
    task_class = lazy_class("connectors.file.source:FileStreamSourceTask")

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [{}]


def test_the_class_and_its_instances_get_the_imported_class() -> None:
    from connectors.file.source import FileStreamSourceTask

    assert Lazy.task_class is FileStreamSourceTask
    assert Lazy().task_class is FileStreamSourceTask
    assert repr(Lazy.__dict__["task_class"]) == "LazyClass('connectors.file.source:FileStreamSourceTask')"


@pytest.mark.parametrize(
    "path",
    ["connectors.file.source.FileStreamSourceTask", ":FileStreamSourceTask", "connectors.file.source:"],
)
def test_a_path_without_module_and_class_is_refused_at_class_definition(path: str) -> None:
    with pytest.raises(ValueError, match=re.escape("package.module:Class")):
        LazyClass(path)


def test_loading_the_built_in_connectors_imports_no_client_library() -> None:
    """What plugin discovery does at start; the task modules come when a task is created."""
    code = (
        "import sys\n"
        "from connectors.elasticsearch.connector import ElasticsearchSinkConnector as E\n"
        "from connectors.postgres.connector import PostgresConnector as P\n"
        "import connectors.jdbc.sink, connectors.jdbc.source\n"
        "heavy = ('elasticsearch', 'asyncpg', 'asyncmy', 'connectors.postgres.task')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "print(E.task_class.__name__, P.task_class.__name__)\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [
        "[]",
        "ElasticsearchSinkTask PostgresSourceTask",
        "['asyncpg', 'connectors.postgres.task', 'elasticsearch']",
    ]
