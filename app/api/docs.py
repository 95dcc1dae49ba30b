"""``/openapi.json``, and ``/docs`` (Swagger UI) and ``/redoc`` served from files installed with Penstock.

FastAPI's default pages load their JavaScript and CSS from a CDN, so on a machine without
internet they stay blank. The ``fastapi-offline`` package ships those files; they are mounted
under ``/docs/static`` and the pages point at them, so nothing is fetched beyond this worker.

The document FastAPI generates is finished here: bodies are parsed by :mod:`app.api.body`,
so FastAPI's 422 validation answer is never sent, and the body models' schemas join the
document's components so their references resolve.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic.json_schema import models_json_schema

from app.api.entities import BODY_MODELS
from app.api.guard import WRITES

STATIC_URL = "/docs/static"
ASSETS = Path(str(files("fastapi_offline") / "static"))

# Swagger UI would otherwise show a badge image from validator.swagger.io.
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}
# The pages may load and call nothing but this worker (ReDoc would fetch its logo from a CDN;
# blocked, it leaves the logo out). Both pages use an inline script or inline styles.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:"
)


def install(app: FastAPI) -> None:
    """Serve the document, the assets and both pages; create the app with ``docs_url=None, redoc_url=None``."""
    app.openapi = _finished(app.openapi)  # type: ignore[method-assign]
    app.mount(STATIC_URL, StaticFiles(directory=ASSETS), name="docs-static")
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _self_only(
            get_swagger_ui_html(
                openapi_url=root + openapi_url,
                title=f"{app.title} - Swagger UI",
                oauth2_redirect_url=root + redirect_url,
                swagger_js_url=f"{root}{STATIC_URL}/swagger-ui-bundle.js",
                swagger_css_url=f"{root}{STATIC_URL}/swagger-ui.css",
                swagger_favicon_url=f"{root}{STATIC_URL}/favicon.png",
                swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
            )
        )

    @app.get(redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _self_only(
            get_redoc_html(
                openapi_url=root + openapi_url,
                title=f"{app.title} - ReDoc",
                redoc_js_url=f"{root}{STATIC_URL}/redoc.standalone.js",
                redoc_favicon_url=f"{root}{STATIC_URL}/favicon.png",
                with_google_fonts=False,
            )
        )


def _self_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return page


def _finished(generate: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    done: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not done:
            done.update(_finish(generate()))
        return done

    return openapi


GUARD_ANSWERS = {
    "403": "A request from a web page of another site (Origin), or addressed to a host name this "
    "worker does not answer to (Host)",
    "413": "The request body is larger than rest.request.max.bytes",
    "415": "The body is not JSON (send Content-Type: application/json)",
}
"""What the request guard (app.api.guard) may answer to any state-changing request."""


def _finish(document: dict[str, Any]) -> dict[str, Any]:
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorMessage"}}}
    for operations in document.get("paths", {}).values():
        for method, operation in operations.items():
            answers = operation.get("responses", {})
            answers.pop("422", None)
            if method.upper() in WRITES:
                for code, description in GUARD_ANSWERS.items():
                    answers.setdefault(code, {"description": description, "content": error_body})
            operation["responses"] = dict(sorted(answers.items()))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    _, bodies = models_json_schema(
        [(model, "validation") for model in BODY_MODELS], ref_template="#/components/schemas/{model}"
    )
    for name, schema in bodies.get("$defs", {}).items():
        schemas.setdefault(name, schema)
    return document
