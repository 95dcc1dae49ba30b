"""``penstock`` command line: run a worker (embedded, standalone or distributed), print the version."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
import uvicorn

from app import __version__
from app.logging import configure
from app.main import create_app
from app.service import Mode
from app.settings import SettingsError, WorkerSettings, load_settings, read_properties

cli = typer.Typer(add_completion=False, no_args_is_help=True, help="Penstock: Kafka Connect for Python.")

HostOption = Annotated[str | None, typer.Option(help="Interface for the REST API (default: listeners)")]
PortOption = Annotated[int | None, typer.Option(help="Port for the REST API (default: listeners, 8083)")]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _settings(properties: Path | None, overrides: dict[str, Any]) -> WorkerSettings:
    try:
        return load_settings(properties, overrides=overrides)
    except (SettingsError, OSError) as exc:
        raise _fail(str(exc)) from None


def _serve(
    settings: WorkerSettings,
    host: str | None,
    port: int | None,
    mode: Mode,
    connectors: list[tuple[str, dict[str, str]]] | None = None,
) -> None:
    listen_host, listen_port = settings.listener
    host = host or listen_host
    port = port if port is not None else listen_port
    # the app checks Host headers against where it really listens
    settings = settings.model_copy(
        update={"listeners": f"http://{f'[{host}]' if ':' in host else host}:{port}"}
    )
    if settings.rest_advertised_port is None or settings.rest_advertised_host_name is None:
        advertised_host = settings.rest_advertised_host_name or (
            host if host not in ("0.0.0.0", "::") else None
        )
        settings = settings.model_copy(
            update={
                "rest_advertised_port": settings.rest_advertised_port or port,
                "rest_advertised_host_name": advertised_host,
            }
        )
    configure(settings.log_level, settings.log_format)
    try:
        app = create_app(settings, mode=mode, initial_connectors=connectors)
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, lifespan="on")


@cli.command()
def run(
    properties: Annotated[Path | None, typer.Argument(help="Optional worker .properties file")] = None,
    host: HostOption = None,
    port: PortOption = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where the embedded database lives")
    ] = None,
) -> None:
    """Run a worker in embedded mode: no Kafka, everything in one SQLite file.

    It listens on 127.0.0.1 (this machine only) unless --host or ``listeners`` says otherwise."""
    settings = _settings(properties, {"data.dir": data_dir})
    if host is None and "listeners" not in settings.model_fields_set:
        host = "127.0.0.1"
    _serve(settings, host, port, Mode.EMBEDDED)


@cli.command()
def standalone(
    properties: Annotated[Path, typer.Argument(help="Worker .properties file (bootstrap.servers, ...)")],
    connector_files: Annotated[
        list[Path] | None, typer.Argument(help="Connector configs: .json or .properties files")
    ] = None,
    host: HostOption = None,
    port: PortOption = None,
) -> None:
    """Run one worker on Kafka, offsets in a local file, connectors from the command line."""
    settings = _settings(properties, {})
    connectors = []
    for path in connector_files or []:
        try:
            connectors.append(read_connector_file(path))
        except (OSError, ValueError) as exc:
            raise _fail(f"{path}: {exc}") from None
    _serve(settings, host, port, Mode.STANDALONE, connectors)


@cli.command()
def distributed(
    properties: Annotated[
        Path, typer.Argument(help="Worker .properties file (group.id, *.storage.topic, ...)")
    ],
    host: HostOption = None,
    port: PortOption = None,
) -> None:
    """Run a worker that joins a cluster of workers sharing group.id; state in Kafka topics."""
    _serve(_settings(properties, {}), host, port, Mode.DISTRIBUTED)


def read_connector_file(path: Path) -> tuple[str, dict[str, str]]:
    """A connector for ``standalone``: ``{"name", "config"}`` JSON, a flat JSON map, or .properties."""
    if path.suffix == ".json":
        data = orjson.loads(path.read_bytes())
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        config = data.get("config", data)
        name = data.get("name") or config.get("name")
        if not isinstance(config, dict):
            raise ValueError('"config" must be a JSON object')
        config = {k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in config.items()}
    else:
        config = read_properties(path)
        name = config.get("name")
    if not name:
        raise ValueError('the connector needs a "name"')
    return str(name), {**config, "name": str(name)}


@cli.command()
def version() -> None:
    """Print the Penstock version."""
    typer.echo(f"penstock {__version__}")


def main() -> None:
    sys.exit(cli())


if __name__ == "__main__":
    main()
