"""``/docs`` and ``/redoc`` render in a real browser with no internet, and load nothing but the worker."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import render
from tests.support.server import ServerProcess

pytestmark = pytest.mark.integration


def _operations(api: ServerProcess) -> list[tuple[str, dict[str, Any]]]:
    document = api.client.get("/openapi.json").json()
    return [(path, op) for path, ops in document["paths"].items() for op in ops.values()]


def _assert_only_the_worker(api: ServerProcess, requests: list[str], assets: tuple[str, ...]) -> None:
    outside = [url for url in requests if not url.startswith(api.url + "/")]
    assert outside == [], f"the page asked for something beyond the worker: {outside}"
    for asset in assets:
        assert f"{api.url}/docs/static/{asset}" in requests, requests


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_page_html_names_no_other_host(api: ServerProcess, page: str) -> None:
    response = api.client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert re.findall(r"(?:https?:)?//[\w.-]+", response.text) == []
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_swagger_ui_lists_every_operation_offline(api: ServerProcess, tmp_path: Path) -> None:
    page = render(api.url + "/docs", tmp_path)
    operations = _operations(api)
    assert len(operations) > 20
    missing = sorted({path for path, _ in operations if f'data-path="{path}"' not in page.dom})
    assert missing == [], f"operations not rendered by Swagger UI: {missing}"
    assert "Create a connector" in page.dom
    _assert_only_the_worker(api, page.page_requests, ("swagger-ui-bundle.js", "swagger-ui.css"))


def test_redoc_lists_every_operation_offline(api: ServerProcess, tmp_path: Path) -> None:
    page = render(api.url + "/redoc", tmp_path)
    missing = sorted(
        op["operationId"] for _, op in _operations(api) if f"operation/{op['operationId']}" not in page.dom
    )
    assert missing == [], f"operations not rendered by ReDoc: {missing}"
    assert "Create a connector" in page.dom
    _assert_only_the_worker(api, page.page_requests, ("redoc.standalone.js",))
