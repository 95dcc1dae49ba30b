"""Headless Chromium (Debian's ``chromium``) as a user's browser would see a page, cut off from the internet.

Every host but 127.0.0.1 is unresolvable and every non-loopback request goes to a closed local
proxy port, so a page that needs a CDN renders blank here exactly as on an air-gapped machine,
and nothing, not even Chromium's own background traffic, leaves the machine. Chromium's network
log tells which requests the page itself made.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # needed as root (CI)
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=127.0.0.1:9",
)


@dataclass
class Rendered:
    dom: str
    page_requests: list[str]
    """URLs the page loaded or asked for (main frame, assets, scripts' fetches), in order."""


def chromium() -> str:
    found = shutil.which("chromium")
    assert found, "Debian's chromium is needed to render pages: run .ci/install-system-deps"
    return found


def render(url: str, workdir: Path, virtual_time_ms: int = 15000) -> Rendered:
    """The DOM after scripts ran (virtual time lets them finish without real waiting)."""
    workdir.mkdir(parents=True, exist_ok=True)
    net_log = workdir / "net-log.json"
    result = subprocess.run(
        [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={workdir / 'profile'}",
            f"--log-net-log={net_log}",
            f"--virtual-time-budget={virtual_time_ms}",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(workdir)},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return Rendered(result.stdout, _page_requests(net_log, url))


def _page_requests(net_log: Path, url: str) -> list[str]:
    """Requests the page made: its main frame and whatever the page's origin initiated."""
    log = json.loads(net_log.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    urls = []
    for event in log["events"]:
        params = event.get("params", {})
        if event["type"] != start_job or "url" not in params:
            continue
        if params.get("initiator") == origin or params.get("request_type") == "main frame":
            urls.append(params["url"])
    return urls
