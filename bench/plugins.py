"""Jars the baseline and the ceilings need beyond the Connect runtime, fetched with Maven on first use.

Debezium's PostgreSQL connector and JDBC sink go into one ``plugin.path`` folder, one sub-folder
each, as a Kafka Connect user installs them (each plugin gets its own class loader, so their
Jackson and Hibernate never meet the runtime's); Kafka's performance tools into their own folder,
run with ``java -cp``. All of it lands in the services' cache through the same cached ``mvn
dependency:copy-dependencies`` step as the Connect runtime (``bench/kafka_connect.py``), never in
the repository. What each profile fetches, and why two versions differ from 3.6.1.Final, is in
``bench/plugins-pom.xml``.
"""

from __future__ import annotations

from pathlib import Path

from scripts.penstock_services.common import build_context
from scripts.penstock_services.install import cached, maven_copy_dependencies

POM = Path(__file__).resolve().parent / "plugins-pom.xml"
DEBEZIUM_VERSION = "3.6.1.Final"
DEBEZIUM_JDBC_VERSION = "3.6.0.Final"  # 3.6.1.Final of the JDBC sink is not served (plugins-pom.xml)
KAFKA_TOOLS_VERSION = "4.3.0"  # the Connect runtime's version (bench/kafka_connect.py)
DEBEZIUM_PLUGINS = ("debezium-postgres", "debezium-jdbc")


# Left to the worker's classpath, which has the same versions (Kafka 4.3.0, Jackson 2.21): a plugin
# folder with its own jackson-databind fails its sink task on the runtime's Jackson modules that
# ServiceLoader finds through the parent class loader ("BlackbirdModule not a subtype").
SHARED_WITH_RUNTIME = "com.fasterxml.jackson.core,org.apache.kafka"


def _fetch(profile: str, out: Path, exclude_groups: str = "") -> None:
    ctx = build_context()
    extra = ("-DincludeScope=runtime",) + ((f"-DexcludeGroupIds={exclude_groups}",) if exclude_groups else ())
    maven_copy_dependencies(
        POM,
        out,
        properties={},
        profiles=(profile,),
        extra=extra,
        log_path=ctx.log_file(f"bench-{profile}-install"),
    )


def debezium_plugin_path() -> Path:
    """The ``plugin.path`` folder holding Debezium's PostgreSQL connector and JDBC sink."""

    def fetch(tmp: Path) -> None:
        for profile in DEBEZIUM_PLUGINS:
            _fetch(profile, tmp / profile, SHARED_WITH_RUNTIME)

    ctx = build_context()
    folder = ctx.cache_dir / f"debezium-plugins-{DEBEZIUM_VERSION}"
    return cached(folder, fetch, f"debezium plugins {DEBEZIUM_VERSION}")


def kafka_tools_lib() -> Path:
    """The classpath folder of ``kafka-tools`` (ProducerPerformance, ConsumerPerformance)."""
    ctx = build_context()
    folder = ctx.cache_dir / f"kafka-tools-{KAFKA_TOOLS_VERSION}"
    return cached(folder, lambda tmp: _fetch("kafka-tools", tmp / "lib"), "kafka tools") / "lib"
