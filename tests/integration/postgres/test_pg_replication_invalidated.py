"""A slot invalidated because the server removed WAL it needed (max_slot_wal_keep_size).

Needs a server setting the shared one lacks, hence a private server.
"""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
import pytest

from connectors.postgres.pgwire import ConnectParams, ObjectNotInPrerequisiteStateError
from connectors.postgres.replication import ReplicationConnection
from tests.support.pg_private import PrivateServer, private_server

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def server() -> Iterator[PrivateServer]:
    with private_server(
        conf="wal_level = logical\nmax_slot_wal_keep_size = 1MB\nmin_wal_size = 32MB\nmax_wal_size = 64MB",
        hba="host all postgres 127.0.0.1/32 trust",
        sql="CREATE TABLE t (id int PRIMARY KEY, v text); CREATE PUBLICATION p FOR TABLE t",
    ) as srv:
        yield srv


async def test_invalidated_slot_says_what_happened(server: PrivateServer) -> None:
    params = ConnectParams(host="127.0.0.1", port=server.port, dbname="postgres", sslmode="disable")
    async with await ReplicationConnection.connect(params) as repl:
        await repl.create_replication_slot("doomed", snapshot="nothing")
        pg = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{server.port}/postgres")
        try:
            for _ in range(3):  # several WAL segments past the slot, then a checkpoint removes them
                await pg.execute(
                    "INSERT INTO t SELECT g, 'x' FROM generate_series(1, 1000) g ON CONFLICT DO NOTHING"
                )
                await pg.execute("SELECT pg_switch_wal()")
            await pg.execute("CHECKPOINT")
        finally:
            await pg.close()
        info = await repl.slot_info("doomed")
        assert info is not None and info.wal_status == "lost" and info.restart_lsn is None
        with pytest.raises(ObjectNotInPrerequisiteStateError) as caught:
            await repl.start_replication("doomed", publication_names=["p"])
        assert caught.value.sqlstate == "55000"
        assert "invalidated" in (caught.value.detail or "")
        assert "drop the slot and take a new snapshot" in str(caught.value)
        await repl.drop_replication_slot("doomed")
