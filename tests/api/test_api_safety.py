"""Safe defaults for a REST API without authentication: Content-Type (415), Origin (403), Host
(DNS rebinding), where ``penstock run`` listens; and the request body limit (413) and aborted
uploads."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.api.api_helpers import assert_error, assert_untouched, names, path, sink_config, uid
from tests.support.server import ServerProcess

pytestmark = pytest.mark.integration

EVIL = "http://evil.example"


def create_body(tmp_path: Path, name: str) -> bytes:
    return json.dumps({"name": name, "config": sink_config(tmp_path / "o.txt", uid("t"))}).encode()


# -- Content-Type -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_body_that_is_not_sent_as_json_is_415(
    api: ServerProcess, tmp_path: Path, content_type: str
) -> None:
    """What a web page can send cross-site without a CORS preflight; Kafka Connect answers 415 too."""
    before = names(api)
    name = uid("ctype")
    response = api.client.post(
        "/connectors", content=create_body(tmp_path, name), headers={"content-type": content_type}
    )
    assert_error(
        response,
        415,
        startswith="HTTP 415 Unsupported Media Type",
        contains=(f"'{content_type}'", "Content-Type: application/json"),
    )
    assert_untouched(api, before, name)
    put = api.client.put(
        path(name) + "/config",
        content=json.dumps(sink_config(tmp_path / "o.txt", uid("t"))).encode(),
        headers={"content-type": content_type},
    )
    assert_error(put, 415, startswith="HTTP 415 Unsupported Media Type")
    logger = api.client.put(
        "/admin/loggers/penstock.apitest.ctype",
        content=b'{"level": "DEBUG"}',
        headers={"content-type": content_type},
    )
    assert_error(logger, 415, startswith="HTTP 415 Unsupported Media Type")
    assert_untouched(api, before, name)


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", None])
def test_json_bodies_and_bodies_without_a_content_type_are_accepted(
    api: ServerProcess, tmp_path: Path, content_type: str | None
) -> None:
    name = uid("ctype-ok")
    headers = {"content-type": content_type} if content_type else {}
    response = api.client.post("/connectors", content=create_body(tmp_path, name), headers=headers)
    assert response.status_code == 201, response.text
    assert api.client.delete(path(name)).status_code == 204


def test_requests_without_a_body_need_no_content_type(api: ServerProcess, tmp_path: Path) -> None:
    """``curl -X POST .../restart`` and ``curl -X PUT .../pause`` send neither a body nor a Content-Type."""
    name = uid("bodiless")
    api.create(name, sink_config(tmp_path / "o.txt", uid("t")))
    api.wait_for_state(name, "RUNNING", tasks=1)
    for method, suffix, status in [
        ("PUT", "/pause", 202),
        ("PUT", "/resume", 202),
        ("POST", "/restart", 204),
        ("POST", "/tasks/0/restart", 204),
        ("PUT", "/stop", 204),
        ("DELETE", "", 204),
    ]:
        response = api.client.request(method, path(name) + suffix)
        assert "content-type" not in response.request.headers
        assert response.status_code == status, (method, suffix, response.text)


# -- Origin -------------------------------------------------------------------------------------
def test_a_state_change_from_another_sites_page_is_403(api: ServerProcess, tmp_path: Path) -> None:
    before = names(api)
    name = uid("origin")
    response = api.client.post(
        "/connectors",
        content=create_body(tmp_path, name),
        headers={"content-type": "application/json", "origin": EVIL},
    )
    assert_error(
        response,
        403,
        startswith=f"Origin '{EVIL}' may not change this worker",
        contains=(f"access.control.allow.origin={EVIL}",),
    )
    assert_untouched(api, before, name)
    # a bodiless request from the page is refused too
    existing = uid("origin-target")
    api.create(existing, sink_config(tmp_path / "o2.txt", uid("t")))
    assert api.client.delete(path(existing), headers={"origin": EVIL}).status_code == 403
    assert existing in names(api)
    # reading is not refused (the browser keeps the answer from the page: no CORS headers)
    read = api.client.get("/connectors", headers={"origin": EVIL})
    assert read.status_code == 200 and "access-control-allow-origin" not in read.headers
    assert api.client.delete(path(existing)).status_code == 204


def test_the_workers_own_pages_may_change_state(api: ServerProcess, tmp_path: Path) -> None:
    """Swagger UI at /docs sends ``Origin`` equal to the address it was loaded from."""
    name = uid("same-origin")
    response = api.client.post(
        "/connectors",
        content=create_body(tmp_path, name),
        headers={"content-type": "application/json", "origin": api.url},
    )
    assert response.status_code == 201, response.text
    assert api.client.delete(path(name), headers={"origin": api.url}).status_code == 204


def test_access_control_allow_origin_allows_that_origin(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    app_origin = "http://dashboard.example:3000"
    server = server_factory({"access.control.allow.origin": f"{app_origin}, https://*.corp.example"})
    name = uid("cors")
    response = server.client.post(
        "/connectors",
        content=create_body(tmp_path, name),
        headers={"content-type": "application/json", "origin": app_origin},
    )
    assert response.status_code == 201, response.text
    assert response.headers["access-control-allow-origin"] == app_origin
    wildcard = server.client.delete(path(name), headers={"origin": "https://ops.corp.example"})
    assert wildcard.status_code == 204
    assert_error(server.client.post(path(name) + "/restart", headers={"origin": EVIL}), 403)


# -- Host ---------------------------------------------------------------------------------------
def test_a_loopback_worker_refuses_other_host_names(api: ServerProcess) -> None:
    """DNS rebinding: a page of evil.example whose name now resolves to 127.0.0.1 is same-origin
    for the browser, but its requests carry ``Host: evil.example``."""
    response = api.client.get("/connectors", headers={"host": f"evil.example:{api.port}"})
    assert_error(response, 403, startswith=f"Host 'evil.example:{api.port}' is not accepted")
    assert_error(api.client.get("/", headers={"host": "evil.example"}), 403)
    for host in (
        f"localhost:{api.port}",
        f"127.0.0.1:{api.port}",
        "127.0.0.2",
        f"[::1]:{api.port}",
        "x.localhost",
    ):
        assert api.client.get("/connectors", headers={"host": host}).status_code == 200, host


def test_the_advertised_host_name_is_accepted(server_factory: Callable[..., ServerProcess]) -> None:
    server = server_factory({"rest.advertised.host.name": "connect.internal"})
    assert server.client.get("/", headers={"host": f"connect.internal:{server.port}"}).status_code == 200
    assert_error(server.client.get("/", headers={"host": "other.internal"}), 403)


def test_a_worker_listening_on_all_interfaces_accepts_any_host(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", host="0.0.0.0").start()
    try:
        assert server.client.get("/", headers={"host": "connect.example.com"}).status_code == 200
    finally:
        server.close()


def _listening_address(port: int) -> str:
    """The local address a TCP socket listens on at ``port`` (from /proc/net/tcp)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            return socket.inet_ntoa(bytes.fromhex(address)[::-1])
    raise AssertionError(f"nothing listens on port {port}")


def test_penstock_run_listens_on_loopback_unless_told_otherwise(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "a", host=None).start()
    try:
        assert _listening_address(server.port) == "127.0.0.1"
    finally:
        server.close()
    everywhere = ServerProcess(tmp_path / "b", {"listeners": "http://0.0.0.0:8083"}, host=None).start()
    try:
        assert _listening_address(everywhere.port) == "0.0.0.0"
    finally:
        everywhere.close()


# -- body size ----------------------------------------------------------------------------------
LIMIT = 4096


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A worker with a 4 KiB body limit."""
    server = ServerProcess(
        tmp_path_factory.mktemp("small") / "data", {"rest.request.max.bytes": str(LIMIT)}
    ).start()
    try:
        yield server
    finally:
        server.close()


def _raw_exchange(server: ServerProcess, head: bytes, chunks: list[bytes]) -> bytes:
    """Send ``head`` and ``chunks`` (never finishing the body), return what the worker answers."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(head)
        for chunk in chunks:
            conn.sendall(chunk)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            data = conn.recv(65536)
            if not data:
                break
            answer += data
        return answer


def test_a_body_declared_larger_than_the_limit_is_413_before_it_is_read(small: ServerProcess) -> None:
    head = (
        b"POST /connectors HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100000000\r\n\r\n"
    )
    started = time.monotonic()
    answer = _raw_exchange(small, head, [])  # not one byte of the body is sent
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert b"rest.request.max.bytes" in answer
    assert time.monotonic() - started < 5


def test_a_streamed_body_is_refused_as_soon_as_it_passes_the_limit(small: ServerProcess) -> None:
    head = (
        b"POST /connectors HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"400\r\n" + b" " * 1024 + b"\r\n"
    answer = _raw_exchange(small, head, [chunk] * 5)  # 5 KiB sent, the body never ends
    assert answer.startswith(b"HTTP/1.1 413"), answer
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body == {
        "error_code": 413,
        "message": f"Request body is larger than {LIMIT} bytes (rest.request.max.bytes); connector configs "
        "are usually a few kilobytes. Send a smaller body, or raise rest.request.max.bytes on the worker",
    }
    assert small.client.get("/health").status_code == 200


def test_a_body_under_the_limit_is_served(small: ServerProcess, tmp_path: Path) -> None:
    name = uid("small")
    body = create_body(tmp_path, name)
    assert len(body) < LIMIT
    response = small.client.post("/connectors", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 201, response.text
    big = {"name": uid("big"), "config": {**sink_config(tmp_path / "o.txt", "t"), "pad": "x" * LIMIT}}
    assert_error(
        small.client.post("/connectors", json=big), 413, startswith="Request body is larger than 4096"
    )
    assert small.client.delete(path(name)).status_code == 204


def test_an_upload_aborted_halfway_is_one_log_line(small: ServerProcess) -> None:
    before = len(small.log().splitlines())
    with socket.create_connection(("127.0.0.1", small.port), timeout=10) as conn:
        conn.sendall(
            b"POST /connectors HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: 3000\r\n\r\n" + b'{"name": "aborted", "config": {'
        )
        time.sleep(0.3)
    assert small.client.get("/health").status_code == 200
    deadline = time.monotonic() + 10
    while "client disconnected" not in small.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    new = small.log().splitlines()[before:]
    assert [line for line in new if "client disconnected before sending the whole request body" in line], new
    assert not [line for line in new if "Traceback" in line or "error" in line.lower()], new
