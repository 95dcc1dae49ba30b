"""``penstock`` command line: run a worker (embedded, standalone or distributed), print the version."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
import uvicorn

from app import __version__
from app.api.auth.users import Role, UsersFile, UsersFileError
from app.api.listener import RestServer
from app.config.tls import peer_ssl_context, server_ssl_context
from app.logging import configure
from app.main import create_app
from app.runtime.gc_tuning import tune_garbage_collector
from app.service import Mode
from app.settings import SettingsError, WorkerSettings, load_settings, read_properties

CONTEXT = {"help_option_names": ["-h", "--help"]}
cli = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    context_settings=CONTEXT,
    help="Penstock: Kafka Connect for Python.",
    epilog="Example: penstock run   (then open http://localhost:8083/docs; penstock COMMAND -h for more)",
)

HostOption = Annotated[str | None, typer.Option(help="Interface for the REST API (default: listeners)")]
PortOption = Annotated[int | None, typer.Option(help="Port for the REST API (default: listeners, 8083)")]


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"penstock {__version__}")
        raise typer.Exit()


@cli.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_print_version, is_eager=True, help="Print the version and exit"
        ),
    ] = False,
) -> None:
    """Penstock: Kafka Connect for Python."""


EXIT_SETTINGS = 2
"""Worker settings that cannot work (Kafka Connect: "Stopping due to error", exit 2)."""
EXIT_CONNECTOR = 3
"""A connector file given to ``standalone`` is unreadable or refused (connect-standalone: exit 3)."""
EXIT_STARTUP_FAILED = 3
"""The server could not start (uvicorn's code, e.g. the port is taken)."""


def _fail(message: str, code: int = EXIT_SETTINGS) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


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
        update={"listeners": f"{settings.listener_scheme}://{f'[{host}]' if ':' in host else host}:{port}"}
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
    fatal: list[str] = []

    def stop(reason: str) -> None:
        fatal.append(reason)
        server.should_exit = True

    try:
        tls = server_ssl_context(settings)
        peer_ssl_context(settings)  # what requests to other workers use: checked now, made on first use
        app = create_app(settings, mode=mode, initial_connectors=connectors, on_fatal=stop)
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    server = RestServer(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            ssl_context_factory=None if tls is None else lambda _config, _default: tls,
        )
    )
    tune_garbage_collector()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: a clean stop, as with uvicorn.run
        server.run()
    if fatal:
        raise _fail(fatal[0], EXIT_CONNECTOR)
    if not server.started:
        raise typer.Exit(EXIT_STARTUP_FAILED)


@cli.command(
    epilog="Examples:\n\npenstock run\n\npenstock run worker.properties --port 8084 --data-dir ./data"
)
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


@cli.command(epilog="Example:\n\npenstock standalone worker.properties file-source.json file-sink.properties")
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
            raise _fail(f"Connector file {path}: {exc}", EXIT_CONNECTOR) from None
    _serve(settings, host, port, Mode.STANDALONE, connectors)


@cli.command(epilog="Example:\n\npenstock distributed connect-distributed.properties --port 8083")
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


@cli.command(epilog="Example:\n\npenstock version   (the same as penstock --version)")
def version() -> None:
    """Print the Penstock version."""
    typer.echo(f"penstock {__version__}")


users_cli = typer.Typer(
    no_args_is_help=True,
    context_settings=CONTEXT,
    help="Manage the REST API's users file (rest.auth.users.file): users, roles, bearer tokens.",
)
cli.add_typer(users_cli, name="users")
UsersFileOption = Annotated[Path, typer.Option("--file", "-f", help="The users file (rest.auth.users.file)")]


def _users(path: Path) -> UsersFile:
    try:
        return UsersFile.load_or_new(path)
    except UsersFileError as exc:
        raise _fail(str(exc)) from None


def _ask_password() -> str:
    if not sys.stdin.isatty():
        raise _fail(
            "No --password given and no terminal to ask for one: pass --password, or run interactively"
        )
    import getpass

    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password (again): "):
        raise _fail("The passwords differ")
    return first


@users_cli.command(
    "add",
    epilog="Example:\n\npenstock users add alice --role admin --file /etc/penstock/users.json",
)
def users_add(
    name: Annotated[str, typer.Argument(help="User name")],
    file: UsersFileOption,
    password: Annotated[
        str | None, typer.Option(help="The password (default: asked for on the terminal)")
    ] = None,
    role: Annotated[Role, typer.Option(help="What the user may do")] = Role.READ_ONLY,
) -> None:
    """Add a user, or change an existing user's password and role. The file is created (mode
    0600, with the cluster secret distributed workers share) when missing."""
    users = _users(file)
    try:
        users.add(name, password if password is not None else _ask_password(), role)
        users.save()
    except (UsersFileError, OSError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"user {name} ({role.value}) saved in {file}")


@users_cli.command("remove", epilog="Example:\n\npenstock users remove alice --file users.json")
def users_remove(name: Annotated[str, typer.Argument(help="User name")], file: UsersFileOption) -> None:
    """Remove a user and its bearer tokens."""
    users = _users(file)
    try:
        users.remove(name)
        users.save()
    except (UsersFileError, OSError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"user {name} removed from {file}")


@users_cli.command("list", epilog="Example:\n\npenstock users list --file users.json")
def users_list(file: UsersFileOption) -> None:
    """List users with their role and how many tokens they have (no secrets)."""
    if not file.exists():
        raise _fail(f"No users file {file}")
    for user in sorted(_users(file).users.values(), key=lambda u: u.name):
        password = "password" if user.password else "no password"
        typer.echo(f"{user.name}\t{user.role.value}\t{password}\t{len(user.tokens)} token(s)")


@users_cli.command("token", epilog="Example:\n\npenstock users token ci-bot --file users.json")
def users_token(name: Annotated[str, typer.Argument(help="User name")], file: UsersFileOption) -> None:
    """Make a new bearer token for a user and print it (only this once: the file keeps a hash)."""
    users = _users(file)
    try:
        token = users.new_token(name)
        users.save()
    except (UsersFileError, OSError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(token)


def main() -> None:
    sys.exit(cli(prog_name="penstock"))


if __name__ == "__main__":
    main()
