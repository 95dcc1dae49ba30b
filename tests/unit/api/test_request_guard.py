"""The request guard's decisions on headers alone (the REST tests drive it through real workers)."""

from __future__ import annotations

from starlette.datastructures import Headers

from app.api.guard import RequestGuard
from app.settings import WorkerSettings

JSON = {"content-type": "application/json", "content-length": "2"}


def guard(**settings: str) -> RequestGuard:
    return RequestGuard(lambda *_: None, WorkerSettings.model_validate(settings))  # type: ignore[arg-type]


def test_dns_rebinding_cannot_pass_as_same_origin_on_a_worker_listening_everywhere() -> None:
    everywhere = guard(listeners="http://0.0.0.0:8083")
    rebound = Headers({**JSON, "host": "attacker.example:8083", "origin": "http://attacker.example:8083"})
    refusal = everywhere.refusal("POST", rebound)
    assert refusal is not None and refusal.status == 403
    assert "access.control.allow.origin" in refusal.message


def test_a_page_served_from_the_workers_own_address_may_write() -> None:
    everywhere = guard(listeners="http://0.0.0.0:8083", **{"rest.advertised.host.name": "connect.internal"})
    for host in ("10.1.2.3:8083", "connect.internal:8083", "[fd00::1]:8083"):
        same = Headers({**JSON, "host": host, "origin": f"http://{host}"})
        assert everywhere.refusal("POST", same) is None, host


def test_an_allowed_origin_may_write_from_any_host_name() -> None:
    allowed = guard(listeners="http://0.0.0.0:8083", **{"access.control.allow.origin": "http://ui.example"})
    headers = Headers({**JSON, "host": "connect.example:8083", "origin": "http://ui.example"})
    assert allowed.refusal("POST", headers) is None
