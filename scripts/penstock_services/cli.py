"""Command line: up / down / status / env."""

from __future__ import annotations

import argparse
import os
import shlex

from .base import Service
from .common import Context, ServiceError, build_context, log
from .elasticsearch import Elasticsearch
from .kafka import Kafka
from .manager import down, release, running, status_lines, up
from .mariadb import MariaDB
from .postgres import Postgres
from .process import Record

SERVICES: dict[str, type[Service]] = {cls.name: cls for cls in (Kafka, Postgres, MariaDB, Elasticsearch)}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/services",
        description="Throw-away Kafka, PostgreSQL, MariaDB and Elasticsearch on 127.0.0.1 (see docs/services.md).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for command, text in (
        ("up", "start services (all when none named), wait until they answer, print export lines"),
        ("down", "stop services (all when none named) and delete their data"),
        ("env", "print export lines for the running services"),
        ("release", "a test run is done: stop what test runs started and none uses any more"),
    ):
        sub = commands.add_parser(command, help=text, description=text)
        sub.add_argument("names", nargs="*", metavar="service", help=f"one of: {', '.join(SERVICES)}")
        if command in ("up", "release"):
            sub.add_argument(
                "--lease",
                type=int,
                metavar="PID",
                required=command == "release",
                help="the test run (pid) that uses the services; see docs/services.md",
            )
    commands.add_parser("status", help="show what runs where")
    return parser


def _services(ctx: Context, names: list[str]) -> list[Service]:
    chosen = dict.fromkeys(names or list(SERVICES))  # keep order, drop duplicates
    return [SERVICES[name](ctx) for name in chosen]


def _print_exports(records: list[Record]) -> None:
    for record in records:
        for key, value in record.exports.items():
            print(f"export {key}={shlex.quote(value)}")


def main(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    unknown = sorted(set(getattr(args, "names", [])) - set(SERVICES))
    if unknown:
        parser.error(f"unknown service(s): {', '.join(unknown)} (known: {', '.join(SERVICES)})")
    os.umask(0o022)  # the service account must be able to read what we write
    try:
        ctx = build_context()
        services = _services(ctx, getattr(args, "names", []))
        if args.command == "up":
            ready, failed = up(ctx, services, args.lease)
            _print_exports(ready)
            if failed:
                log(f"failed to start: {', '.join(failed)} (logs: {ctx.logs_dir})")
                return 1
        elif args.command == "down":
            down(ctx, services)
        elif args.command == "release":
            release(ctx, services, args.lease)
        elif args.command == "env":
            _print_exports(running(ctx, services))
        else:
            print("\n".join(status_lines(ctx, services)))
    except ServiceError as exc:
        log(f"error: {exc}")
        return 1
    return 0
