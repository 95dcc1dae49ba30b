"""The REST listener: uvicorn's server, with a bounded wait for idle TLS connections at stop.

At a graceful stop uvicorn closes idle keep-alive connections and waits until every connection is
gone. Over TLS, asyncio's close sends ``close_notify`` and then waits up to 30 s
(``ssl_shutdown_timeout``) for the client's own ``close_notify``, which an idle client never sends:
an HTTPS worker took 30 s to stop whenever a client kept a connection open (measured: 30.6 s
against 0.6 s over plain HTTP). Connections still handling a request are left to finish as before;
only those already closing get :data:`CLOSING_GRACE_S` before they are aborted.
"""

from __future__ import annotations

import asyncio

import uvicorn

CLOSING_GRACE_S = 1.0


class RestServer(uvicorn.Server):
    async def _wait_tasks_to_complete(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CLOSING_GRACE_S
        while self.server_state.connections and not self.force_exit:
            if loop.time() >= deadline:
                for connection in list(self.server_state.connections):
                    transport = getattr(connection, "transport", None)
                    if transport is not None and transport.is_closing():
                        transport.abort()  # the TLS goodbye the client will never answer
            await asyncio.sleep(0.1)
        await super()._wait_tasks_to_complete()
