"""``penstock`` command line: run the embedded worker, print the version."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from app import __version__
from app.logging import configure
from app.main import create_app
from app.settings import SettingsError, load_settings

cli = typer.Typer(add_completion=False, no_args_is_help=True, help="Penstock: Kafka Connect for Python.")


@cli.command()
def run(
    properties: Annotated[Path | None, typer.Argument(help="Optional worker .properties file")] = None,
    host: Annotated[str | None, typer.Option(help="Interface for the REST API (default: all)")] = None,
    port: Annotated[int | None, typer.Option(help="Port for the REST API (default 8083)")] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where the embedded database lives")
    ] = None,
) -> None:
    """Run a worker in embedded mode: no Kafka, everything in one SQLite file."""
    overrides: dict[str, Any] = {"data.dir": data_dir}
    try:
        settings = load_settings(properties, overrides=overrides)
    except (SettingsError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    listen_host, listen_port = settings.listener
    host = host or listen_host
    port = port if port is not None else listen_port
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
    uvicorn.run(
        create_app(settings), host=host, port=port, log_level="warning", access_log=False, lifespan="on"
    )


@cli.command()
def version() -> None:
    """Print the Penstock version."""
    typer.echo(f"penstock {__version__}")


def main() -> None:
    sys.exit(cli())


if __name__ == "__main__":
    main()
