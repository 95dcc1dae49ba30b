"""Connector names must be usable in a URL path; connectors stored with a name that is not
(created by an older version) stay reachable with the name percent-encoded."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from tests.api.api_helpers import assert_error, assert_untouched, names, path, sink_config, uid
from tests.support.cluster import KAFKA_ONLY
from tests.support.server import ServerProcess, wait_until

pytestmark = pytest.mark.integration


def encoded(name: str) -> str:
    """``/connectors/<name>`` percent-encoded; "." and ".." too, since clients drop such segments."""
    return "/connectors/" + ("%2E" * len(name) if set(name) == {"."} else quote(name, safe=""))


@pytest.mark.parametrize("bad", ["a/b", "../../etc", "..", ".", "a\\b", "/leading"])
def test_a_name_that_cannot_be_used_in_a_url_path_is_refused(
    api: ServerProcess, tmp_path: Path, bad: str
) -> None:
    before = names(api)
    config = sink_config(tmp_path / "o.txt", uid("t"))
    response = api.client.post("/connectors", json={"name": bad, "config": config})
    assert_error(
        response,
        400,
        startswith=f"Connector name '{bad}' cannot be used in a URL path",
        contains=("may not contain '/' or '\\'", "Choose another name"),
    )
    put = api.client.put(encoded(bad) + "/config", json=config)
    assert_error(put, 400, startswith=f"Connector name '{bad}' cannot be used in a URL path")
    assert_untouched(api, before)


def test_a_suggested_name_is_given(api: ServerProcess, tmp_path: Path) -> None:
    response = api.client.post(
        "/connectors", json={"name": "prod/orders", "config": sink_config(tmp_path / "o.txt", uid("t"))}
    )
    assert_error(response, 400, contains=("for example 'prod-orders'",))


def test_names_kafka_connect_allows_and_urls_can_carry_still_work(api: ServerProcess, tmp_path: Path) -> None:
    for name in (uid("dots...") + "..", uid("a b?c#d%e")):
        api.create(name, sink_config(tmp_path / "o.txt", uid("t")))
        assert api.client.get(path(name)).json()["name"] == name
        assert api.client.delete(path(name)).status_code == 204


def _rename(data: Path, old: str, new: str) -> None:
    """What an older Penstock stored: a connector under a name it no longer accepts."""
    with closing(sqlite3.connect(data / "penstock.db")) as conn, conn:
        conn.execute(
            "UPDATE connectors SET name=?, config=json_set(config, '$.name', ?) WHERE name=?", (new, new, old)
        )
        conn.execute(
            "UPDATE task_configs SET connector=?, config=json_set(config, '$.name', ?) WHERE connector=?",
            (new, new, old),
        )


@pytest.mark.parametrize("stored", ["legacy/{uid}", "../../legacy-{uid}", ".."])
def test_existing_connectors_with_such_names_can_be_managed(
    server_factory: Callable[..., ServerProcess], tmp_path: Path, stored: str
) -> None:
    data = tmp_path / "data"
    first = server_factory(data_dir=data)
    name = uid("legacy")
    first.create(name, {**sink_config(tmp_path / "o.txt", uid("t")), "name": name})
    first.wait_for_state(name, "RUNNING", tasks=1)
    first.stop()
    bad = stored.format(uid=name)
    _rename(data, name, bad)

    server = server_factory(data_dir=data)
    assert bad in names(server)
    url = encoded(bad)
    info = server.client.get(url)
    assert info.status_code == 200, info.text
    assert info.json()["name"] == bad
    assert server.client.get(url + "/config").status_code == 200
    assert server.client.get(url + "/status").status_code == 200
    assert server.client.put(url + "/pause").status_code == 202
    assert server.client.delete(url).status_code == 204
    assert bad not in names(server)
    assert_error(server.client.get(url), 404, f"Connector {bad} not found")


async def _write_config_record(bootstrap: str, topic: str, name: str, config: dict[str, str]) -> None:
    """A connector in the config topic, as an older Penstock (or Kafka Connect) wrote it."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic, orjson.dumps({"properties": config}), key=f"connector-{name}".encode()
        )
        await producer.send_and_wait(
            topic, orjson.dumps({"state": "STARTED"}), key=f"target-state-{name}".encode()
        )
    finally:
        await producer.stop()


@KAFKA_ONLY
def test_such_connectors_in_the_config_topic_can_be_managed_from_any_worker(
    server_factory: Callable[..., ServerProcess], kafka_bootstrap: str, cluster_id: str, tmp_path: Path
) -> None:
    """A follower forwards writes to the leader with the name still encoded, and the leader does not
    mistake the forwarded request for a cross-site one (the browser's Origin stays behind)."""
    workers = [server_factory(), server_factory()]
    bad = f"legacy/{cluster_id}"
    config = {**sink_config(tmp_path / "o.txt", f"{cluster_id}-t"), "name": bad}
    asyncio.run(_write_config_record(kafka_bootstrap, f"{cluster_id}-configs", bad, config))
    wait_until(lambda: all(bad in names(w) for w in workers), timeout=60, message=f"{bad} never listed")
    url = encoded(bad)
    for worker in workers:  # one of them is a follower
        assert worker.client.get(url + "/config").json() == config
        paused = worker.client.put(url + "/pause", headers={"origin": worker.url})
        assert paused.status_code == 202, paused.text
    deleted = workers[1].client.delete(url, headers={"origin": workers[1].url})
    assert deleted.status_code == 204, deleted.text
    wait_until(lambda: all(bad not in names(w) for w in workers), timeout=30, message=f"{bad} still listed")
