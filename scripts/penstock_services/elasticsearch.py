"""Elasticsearch 8.x, single node, from the integ-test zip on Maven Central."""

from __future__ import annotations

import json
import os
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path

from .base import Launch, Service
from .common import DEPLOY_DIR, HOST, ServiceError, java_home, pom_property, render
from .install import cached, maven_copy_dependencies, unzip_with_modes

ES_DIR = DEPLOY_DIR / "elasticsearch"
POM = ES_DIR / "pom.xml"
DEFAULT_JAVA_OPTS = "-Xms512m -Xmx512m"


class Elasticsearch(Service):
    name = "elasticsearch"
    env_var = "ELASTICSEARCH_URL"
    default_ports = {"http": 9200, "transport": 9300}

    def version(self) -> str:
        version = os.environ.get("ELASTICSEARCH_VERSION") or pom_property(POM, "elasticsearch.version")
        if not re.fullmatch(r"\d+\.\d+\.\d+", version):
            raise ServiceError(f"ELASTICSEARCH_VERSION must look like 8.19.21, got {version!r}")
        return version

    def _home(self) -> Path:
        return self.ctx.cache_dir / f"elasticsearch-{self.version()}"

    def install(self) -> None:
        version = self.version()

        def fetch(tmp: Path) -> None:
            download = tmp / ".download"
            maven_copy_dependencies(
                POM,
                download,
                properties={"elasticsearch.version": version},
                log_path=self.ctx.log_file("elasticsearch-install"),
            )
            unpacked = tmp / ".unpacked"
            unzip_with_modes(download / f"elasticsearch-{version}.zip", unpacked)
            for item in (unpacked / f"elasticsearch-{version}").iterdir():
                item.rename(tmp / item.name)
            shutil.rmtree(download)
            shutil.rmtree(unpacked)

        cached(self._home(), fetch, f"elasticsearch {version}")

    def configure(self, data_dir: Path, ports: dict[str, int]) -> Launch:
        paths = {name: data_dir / name for name in ("config", "data", "logs", "tmp")}
        shutil.copytree(self._home() / "config", paths["config"])
        for name in ("data", "logs", "tmp"):
            paths[name].mkdir()
        values = {f"{name}_path": path for name, path in paths.items()}
        (paths["config"] / "elasticsearch.yml").write_text(
            render(
                ES_DIR / "elasticsearch.yml.in",
                http_port=ports["http"],
                transport_port=ports["transport"],
                **values,
            )
        )
        (paths["config"] / "jvm.options").write_text(render(ES_DIR / "jvm.options.in", **values))
        if self.ctx.run_as is not None:
            self.ctx.run_as.chown_tree(data_dir)  # ES writes its keystore into the config folder
        env = dict(os.environ)
        env.pop("JAVA_HOME", None)
        env.update(
            ES_JAVA_HOME=str(java_home()),
            ES_PATH_CONF=str(paths["config"]),
            ES_TMPDIR=str(paths["tmp"]),
            ES_JAVA_OPTS=os.environ.get("ES_JAVA_OPTS") or DEFAULT_JAVA_OPTS,
            HOME=str(data_dir),
        )
        return Launch(argv=[str(self._home() / "bin" / "elasticsearch")], cwd=data_dir, env=env)

    def is_ready(self, ports: dict[str, int]) -> bool:
        url = f"http://{HOST}:{ports['http']}/_cluster/health?wait_for_status=yellow&timeout=2s"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.load(response).get("status") in ("green", "yellow")
        except (OSError, ValueError, urllib.error.URLError):
            return False

    def exports(self, ports: dict[str, int]) -> dict[str, str]:
        return {self.env_var: f"http://{HOST}:{ports['http']}"}
