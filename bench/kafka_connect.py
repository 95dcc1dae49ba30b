"""The baseline: Apache Kafka Connect's own ``ConnectStandalone`` worker, started as a user would.

The jars (connect-runtime, connect-file, connect-json and their dependencies) come from Maven
Central through ``bench/kafka-connect-pom.xml`` and the same cached ``mvn
dependency:copy-dependencies`` step ``scripts/services`` uses for the broker, into the services'
cache folder (``/var/cache/penstock`` as root, ``~/.cache/penstock`` otherwise), never into the
repository. The JVM gets what ``bin/connect-standalone.sh`` gives it: ``-Xms256M -Xmx2G`` and
``kafka-run-class.sh``'s G1 flags. Log level WARN for both systems' fairness: neither pays for
INFO lines per offset commit.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bench.runner import Job
from scripts.penstock_services.common import build_context, require_tool
from scripts.penstock_services.install import cached, maven_copy_dependencies
from scripts.penstock_services.kafka import JVM_FLAGS

POM = Path(__file__).resolve().parent / "kafka-connect-pom.xml"
# The broker runs 4.4.0, but connect-file 4.4.0 is not on Maven Central: 4.3.0 is the newest
# complete set (BENCH_CONNECT_VERSION=3.9.1 picks the 3.9 line, through the reload4j profile).
DEFAULT_VERSION = "4.3.0"
HEAP = ["-Xms256M", "-Xmx2G"]  # bin/connect-standalone.sh
LOG4J2 = """\
rootLogger.level=WARN
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
"""
RELOAD4J = """\
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
"""


def version() -> str:
    return os.environ.get("BENCH_CONNECT_VERSION") or DEFAULT_VERSION


def install() -> Path:
    """The folder of Kafka Connect jars, fetched with Maven on first use and cached after."""
    ctx = build_context()
    release = version()
    profile = "log4j2" if int(release.split(".")[0]) >= 4 else "reload4j"

    def fetch(tmp: Path) -> None:
        maven_copy_dependencies(
            POM,
            tmp / "lib",
            properties={"kafka.version": release},
            profiles=(profile,),
            extra=("-DincludeScope=runtime",),
            log_path=ctx.log_file("kafka-connect-install"),
        )

    return cached(ctx.cache_dir / f"kafka-connect-{release}", fetch, f"kafka connect {release}") / "lib"


class KafkaConnect:
    name = "kafka-connect"

    def __init__(self, lib: Path, plugin_path: Path | None = None) -> None:
        self.lib = lib
        self.plugin_path = plugin_path

    def launch(self, job: Job, log: Path) -> subprocess.Popen[bytes]:
        worker, connectors = job.write()
        if job.java_plugins:
            # Where this installation keeps its connector jars (Debezium's): a deployment detail of
            # the JVM worker, as the Python packages installed next to Penstock are of Penstock.
            if self.plugin_path is None:
                raise RuntimeError("this case needs the Debezium plugins: KafkaConnect(lib, plugin_path)")
            with worker.open("a") as f:
                f.write(f"plugin.path={self.plugin_path}\n")
        if int(version().split(".")[0]) >= 4:
            config = job.workdir / "log4j2.properties"
            config.write_text(LOG4J2)
            logging_flag = f"-Dlog4j2.configurationFile={config}"
        else:
            config = job.workdir / "log4j.properties"
            config.write_text(RELOAD4J)
            logging_flag = f"-Dlog4j.configuration=file:{config}"
        argv = [
            require_tool("java"),
            *HEAP,
            "-server",
            *JVM_FLAGS,
            logging_flag,
            "-cp",
            f"{self.lib}/*",
            "org.apache.kafka.connect.cli.ConnectStandalone",
            str(worker),
            *map(str, connectors),
        ]
        with log.open("ab") as out:
            return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=job.workdir)

    async def submit(self, job: Job) -> None:
        """Nothing: ConnectStandalone starts the connectors named on its command line."""
