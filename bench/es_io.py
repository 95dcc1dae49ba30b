"""The suite's own Elasticsearch traffic: the documents, the index, its progress, the clean-up.

Progress is read from the index's indexing statistics (documents indexed on the primary shard),
which need no refresh, so the poll neither costs the server a refresh nor lags one behind. A
document indexed twice (a retried bulk request) counts twice there, so once the statistics reach
the target, the index is refreshed and what a search counts decides. The latency case counts what
a search sees (``_count``) from the start, because "searchable" is its point.
"""

from __future__ import annotations

import contextlib

import orjson
from elasticsearch import AsyncElasticsearch, NotFoundError

DOC_BYTES = 1024


def document(i: int) -> bytes:
    """Exactly ``DOC_BYTES`` of JSON: a few typed fields and a text body padded to size."""
    doc = {
        "id": i,
        "customer": f"customer-{i % 5000}",
        "amount": round(i * 0.37 % 1000, 2),
        "status": ("new", "paid", "shipped", "returned")[i % 4],
        "created_at": 1_700_000_000_000 + i,
        "text": "",
    }
    room = DOC_BYTES - len(orjson.dumps(doc))
    doc["text"] = ("lorem ipsum dolor sit amet " * 40)[:room]
    return orjson.dumps(doc)


class Index:
    """One index per run: created before the worker starts (no replicas on the one-node cluster,
    an explicit 1 s refresh so a searched index never goes search-idle), deleted after."""

    def __init__(self, url: str, name: str, expected: int = 0) -> None:
        self.name, self.expected = name, expected
        self.es = AsyncElasticsearch(url, request_timeout=60)

    async def __aenter__(self) -> Index:
        await self.es.indices.create(
            index=self.name, settings={"number_of_replicas": 0, "refresh_interval": "1s"}
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(NotFoundError):
            await self.es.indices.delete(index=self.name)
        await self.es.close()

    async def indexed(self) -> int:
        """Documents indexed so far: the statistics, confirmed by a search count at the end."""
        stats = await self.es.indices.stats(index=self.name, metric="indexing")
        total = int(stats["_all"]["primaries"]["indexing"]["index_total"])
        if total < self.expected:
            return total
        return min(total, await self.exact_count())

    async def searchable(self) -> int:
        return int((await self.es.count(index=self.name))["count"])

    async def exact_count(self) -> int:
        await self.es.indices.refresh(index=self.name)
        return await self.searchable()
