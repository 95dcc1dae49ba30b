"""The embedded worker's cluster id: Kafka's form, created once per data directory."""

from __future__ import annotations

import re
from pathlib import Path

from app.storage.cluster_id import load_or_create, new_cluster_id

KAFKA_UUID = re.compile(r"[A-Za-z0-9_-]{22}")


def test_new_ids_have_kafkas_form_and_never_start_with_a_dash() -> None:
    ids = {new_cluster_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(KAFKA_UUID.fullmatch(i) and not i.startswith("-") for i in ids)


def test_the_id_is_created_once_and_read_back(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "data"
    first = load_or_create(data)
    assert load_or_create(data) == first
    assert (data / "cluster.id").read_text() == first + "\n"
    assert [p.name for p in data.iterdir()] == ["cluster.id"]  # no temporary file left behind


def test_a_damaged_file_is_replaced_by_a_new_id(tmp_path: Path) -> None:
    (tmp_path / "cluster.id").write_text("not an id\n")
    replaced = load_or_create(tmp_path)
    assert KAFKA_UUID.fullmatch(replaced)
    assert load_or_create(tmp_path) == replaced
