"""The id ``GET /`` reports as ``kafka_cluster_id`` when there is no Kafka cluster to ask.

Clients decode it as a string, and some use it to tell workers of different clusters apart, so
an embedded worker reports an id of Kafka's own form (22 characters of URL-safe base64, a random
UUID) that is generated once and kept in the data directory: the same across restarts, different
for another data directory.
"""

from __future__ import annotations

import base64
import os
import re
import uuid
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)
FILE_NAME = "cluster.id"
CLUSTER_ID = re.compile(r"[A-Za-z0-9_-]{22}")


def new_cluster_id() -> str:
    """A random id as Kafka's ``Uuid.randomUuid().toString()`` writes it; like Kafka, never one
    that starts with ``-`` (it would read as a command-line option)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def load_or_create(data_dir: Path) -> str:
    """The id stored in ``data_dir``, created (atomically, owner-only) the first time."""
    path = data_dir / FILE_NAME
    try:
        stored = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        stored = None
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("cluster id unreadable; writing a new one", path=str(path), error=str(exc))
        stored = ""
    if stored and CLUSTER_ID.fullmatch(stored):
        return stored
    if stored is not None:
        log.warning("cluster id file holds no valid id; writing a new one", path=str(path))
    cluster_id = new_cluster_id()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{FILE_NAME}.{os.getpid()}")
    fd = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(cluster_id + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return cluster_id
