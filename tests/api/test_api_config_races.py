"""Config writes that race each other on a real worker: each one reads and writes under one lock."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.api.api_helpers import path, source_config, uid
from tests.support.server import ServerProcess


def test_a_patch_racing_a_delete_never_brings_the_connector_back(api: ServerProcess, tmp_path: Path) -> None:
    """Before the fix the PATCH read the config, the DELETE ran, and the PATCH then wrote the
    whole config back: 19 of 20 deleted connectors reappeared."""
    names = [uid("race") for _ in range(20)]
    for name in names:
        api.create(name, source_config(tmp_path / f"{name}.txt", uid("topic")))

    async def race() -> list[tuple[int, int]]:
        async with httpx.AsyncClient(base_url=api.url, timeout=60) as client:

            async def pair(name: str) -> tuple[int, int]:
                patch, delete = await asyncio.gather(
                    client.patch(f"{path(name)}/config", json={"batch.size": "7"}),
                    client.delete(path(name)),
                )
                return patch.status_code, delete.status_code

            return list(await asyncio.gather(*(pair(n) for n in names)))

    codes = asyncio.run(race())
    assert {d for _, d in codes} == {204}, codes
    assert {p for p, _ in codes} <= {200, 404}, codes
    listed = set(api.client.get("/connectors").json())
    assert not listed & set(names), f"deleted connectors came back: {sorted(listed & set(names))}"
    for name in names:
        assert api.client.get(f"{path(name)}/config").status_code == 404


def test_a_patch_of_a_missing_connector_is_404(api: ServerProcess) -> None:
    response = api.client.patch(f"{path(uid('missing'))}/config", json={"batch.size": "7"})
    assert response.status_code == 404, response.text
