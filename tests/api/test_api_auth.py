"""REST authentication and roles on a real worker process (``rest.auth.users.file``): 401 without
or with bad credentials, each role refused (403) what it may not do and allowed what it may,
bearer tokens, masked configs below admin, rate-limited failures, open probes, the users CLI."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.api.auth.users import Role, UsersFile
from tests.api.api_helpers import assert_error, path, source_config, uid
from tests.support.server import ServerProcess, wait_until

PASSWORDS = {"root": "admin-pass-1", "ops": "operator-pass-1", "viewer": "reader-pass-1"}
SECRET = "hunter2-XYZ-secret"


def make_users_file(file: Path) -> str:
    """admin ``root``, operator ``ops``, read-only ``viewer``; returns a bearer token of viewer."""
    users = UsersFile.load_or_new(file)
    users.add("root", PASSWORDS["root"], Role.ADMIN)
    users.add("ops", PASSWORDS["ops"], Role.OPERATOR)
    users.add("viewer", PASSWORDS["viewer"], Role.READ_ONLY)
    token = users.new_token("viewer")
    users.save()
    return token


class Worker:
    def __init__(self, server: ServerProcess, users_file: Path, token: str) -> None:
        self.server, self.users_file, self.token = server, users_file, token
        self.anonymous = httpx.Client(base_url=server.url, timeout=30)
        self.clients = {
            name: httpx.Client(base_url=server.url, timeout=30, auth=(name, pw))
            for name, pw in PASSWORDS.items()
        }
        server.client.auth = ("root", PASSWORDS["root"])  # the server's helpers act as admin

    def close(self) -> None:
        self.anonymous.close()
        for client in self.clients.values():
            client.close()


def start_worker(folder: Path, **settings: str) -> Worker:
    users_file = folder / "users.json"
    token = make_users_file(users_file)
    server = ServerProcess(folder / "data", {"rest.auth.users.file": str(users_file), **settings}).start()
    return Worker(server, users_file, token)


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    started = start_worker(tmp_path_factory.mktemp("auth"))
    try:
        yield started
    finally:
        started.close()
        started.server.close()


def assert_401(response: httpx.Response) -> None:
    assert_error(response, 401)
    challenges = response.headers.get_list("www-authenticate")
    assert challenges == ['Basic realm="penstock"', 'Bearer realm="penstock"'], challenges


PROTECTED = [
    ("GET", "/"),
    ("GET", "/connectors"),
    ("GET", "/connectors?expand=info"),
    ("GET", "/connector-plugins"),
    ("GET", "/metrics"),
    ("GET", "/docs"),
    ("GET", "/redoc"),
    ("GET", "/openapi.json"),
    ("GET", "/admin/loggers"),
    ("GET", "/health"),
    ("POST", "/connectors"),
    ("DELETE", "/connectors/x"),
    ("PUT", "/admin/loggers/root"),
]


@pytest.mark.parametrize(("method", "url"), PROTECTED)
def test_every_endpoint_needs_credentials(worker: Worker, method: str, url: str) -> None:
    assert_401(worker.anonymous.request(method, url, json={} if method != "GET" else None))


def test_wrong_credentials_are_401_and_logged_without_the_password(worker: Worker) -> None:
    wrong_password = "not-the-Password-42"
    with httpx.Client(base_url=worker.server.url, auth=("ops", wrong_password)) as client:
        assert_401(client.get("/connectors"))
    with httpx.Client(base_url=worker.server.url, auth=("nobody-such", wrong_password)) as client:
        assert_401(client.get("/connectors"))
    assert_401(worker.anonymous.get("/connectors", headers={"Authorization": "Bearer pst_made-up"}))
    assert_401(worker.anonymous.get("/connectors", headers={"Authorization": "Basic !!notbase64"}))
    assert_401(worker.anonymous.get("/connectors", headers={"Authorization": "Digest x"}))
    wait_until(lambda: "nobody-such" in worker.server.log(), timeout=5)
    log = worker.server.log()
    failures = [line for line in log.splitlines() if "REST authentication failed" in line]
    assert any("user=ops" in line and "client=127.0.0.1" in line for line in failures), failures
    assert wrong_password not in log


def test_probes_are_open(worker: Worker) -> None:
    assert worker.anonymous.get("/healthz").json() == {"status": "ok"}
    assert worker.anonymous.get("/readyz").json() == {"status": "ready"}


def test_the_right_password_and_a_bearer_token_are_accepted(worker: Worker) -> None:
    for client in worker.clients.values():
        assert client.get("/connectors").status_code == 200
        assert client.get("/openapi.json").status_code == 200
    bearer = {"Authorization": f"Bearer {worker.token}"}
    assert worker.anonymous.get("/connectors", headers=bearer).status_code == 200
    assert worker.anonymous.get("/metrics", headers=bearer).status_code == 200
    # the token is viewer's: read-only
    refused = worker.anonymous.put("/admin/loggers/root", json={"level": "INFO"}, headers=bearer)
    assert_error(refused, 403, contains=("viewer", "read-only", "admin"))


def _connector(worker: Worker, tmp_path: Path) -> str:
    name = uid("auth")
    (tmp_path / "in.txt").write_text("")
    config = source_config(tmp_path / "in.txt", uid("t"), **{"connection.password": SECRET})
    worker.server.create(name, config)
    worker.server.wait_for_state(name, "RUNNING", tasks=1)
    return name


def test_read_only_may_read_but_change_nothing(worker: Worker, tmp_path: Path) -> None:
    name = _connector(worker, tmp_path)
    viewer = worker.clients["viewer"]
    for url in (
        path(name),
        f"{path(name)}/config",
        f"{path(name)}/status",
        f"{path(name)}/tasks",
        f"{path(name)}/offsets",
        "/admin/loggers",
        "/connectors?expand=info&expand=status",
        "/metrics",
    ):
        assert viewer.get(url).status_code == 200, url
    refused: list[tuple[str, str, Any]] = [
        ("PUT", f"{path(name)}/pause", None),
        ("PUT", f"{path(name)}/resume", None),
        ("PUT", f"{path(name)}/stop", None),
        ("POST", f"{path(name)}/restart", None),
        ("POST", f"{path(name)}/tasks/0/restart", None),
        ("POST", "/connectors", {"name": uid("x"), "config": {}}),
        ("PUT", f"{path(name)}/config", {"connector.class": "FileStreamSource"}),
        ("DELETE", path(name), None),
        ("DELETE", f"{path(name)}/offsets", None),
        ("PUT", "/admin/loggers/root", {"level": "DEBUG"}),
        (
            "PUT",
            "/connector-plugins/FileStreamSource/config/validate",
            {"connector.class": "FileStreamSource"},
        ),
        ("POST", "/transforms/preview", {}),
    ]
    for method, url, body in refused:
        assert_error(viewer.request(method, url, json=body), 403, contains=("viewer", "read-only")), url
    assert worker.server.client.get(f"{path(name)}/status").json()["connector"]["state"] == "RUNNING"


def test_operator_may_pause_resume_stop_and_restart_but_not_configure(worker: Worker, tmp_path: Path) -> None:
    name = _connector(worker, tmp_path)
    ops = worker.clients["ops"]
    assert ops.put(f"{path(name)}/pause").status_code == 202
    worker.server.wait_for_state(name, "PAUSED")
    assert ops.put(f"{path(name)}/resume").status_code == 202
    worker.server.wait_for_state(name, "RUNNING", tasks=1)
    assert ops.post(f"{path(name)}/restart").status_code in (202, 204)
    assert ops.post(f"{path(name)}/tasks/0/restart").status_code == 204
    assert ops.put(f"{path(name)}/stop").status_code == 204
    worker.server.wait_for_state(name, "STOPPED")
    for method, url, body in (
        ("POST", "/connectors", {"name": uid("x"), "config": {"connector.class": "FileStreamSource"}}),
        ("PUT", f"{path(name)}/config", {"connector.class": "FileStreamSource"}),
        ("DELETE", path(name), None),
        ("DELETE", f"{path(name)}/offsets", None),
        ("PUT", "/admin/loggers/root", {"level": "DEBUG"}),
    ):
        assert_error(ops.request(method, url, json=body), 403, contains=("ops", "operator", "admin"))
    assert worker.server.client.get(path(name)).status_code == 200


def test_admin_may_do_everything(worker: Worker, tmp_path: Path) -> None:
    name = _connector(worker, tmp_path)
    root = worker.clients["root"]
    assert root.put("/admin/loggers/app", json={"level": "INFO"}).status_code == 200
    assert root.put(f"{path(name)}/stop").status_code == 204
    worker.server.wait_for_state(name, "STOPPED")
    assert root.delete(f"{path(name)}/offsets").status_code == 200
    assert root.delete(path(name)).status_code == 204
    assert root.get(path(name)).status_code == 404


def test_secret_values_are_masked_below_admin(worker: Worker, tmp_path: Path) -> None:
    name = _connector(worker, tmp_path)
    urls = [
        path(name),
        f"{path(name)}/config",
        f"{path(name)}/tasks",
        f"{path(name)}/tasks-config",
        "/connectors?expand=info",
    ]
    for user in ("viewer", "ops"):
        for url in urls:
            response = worker.clients[user].get(url)
            assert response.status_code == 200 and SECRET not in response.text, (user, url, response.text)
        shown = worker.clients[user].get(f"{path(name)}/config").json()
        assert shown["connection.password"] == "[hidden]" and shown["topic"], shown
        info = worker.clients[user].get("/connectors?expand=info").json()[name]["info"]
        assert info["config"]["connection.password"] == "[hidden]"
    # an admin gets the config back as stored, to edit it (Kafka Connect's behaviour)
    assert worker.clients["root"].get(f"{path(name)}/config").json()["connection.password"] == SECRET


def test_the_users_cli_round_trip(worker: Worker, tmp_path: Path) -> None:
    """add, list, token, remove on the running worker's file: changes apply without a restart."""

    def penstock(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app.cli", "users", *args, "--file", str(worker.users_file)],
            capture_output=True,
            text=True,
            input=stdin,
            timeout=60,
            check=False,
        )

    added = penstock("add", "cli-user", "--password", "cli-pass-123", "--role", "operator")
    assert added.returncode == 0, added.stderr
    assert stat.S_IMODE(os.stat(worker.users_file).st_mode) == 0o600
    listed = penstock("list")
    assert listed.returncode == 0 and "cli-user\toperator" in listed.stdout, listed
    assert "argon2" not in listed.stdout and "sha256" not in listed.stdout and "cli-pass" not in listed.stdout
    with httpx.Client(base_url=worker.server.url, auth=("cli-user", "cli-pass-123")) as client:
        assert wait_until(lambda: client.get("/connectors").status_code == 200, timeout=5)
    made = penstock("token", "cli-user")
    token = made.stdout.strip()
    assert made.returncode == 0 and token.startswith("pst_"), made
    assert token not in worker.users_file.read_text()  # only its hash is kept
    bearer = {"Authorization": f"Bearer {token}"}
    assert worker.anonymous.get("/connectors", headers=bearer).status_code == 200
    no_tty = penstock("add", "someone")  # no --password, stdin is not a terminal
    assert no_tty.returncode == 2 and "--password" in no_tty.stderr, no_tty
    removed = penstock("remove", "cli-user")
    assert removed.returncode == 0, removed.stderr
    assert wait_until(
        lambda: worker.anonymous.get("/connectors", headers=bearer).status_code == 401, timeout=5
    )
    assert penstock("remove", "cli-user").returncode == 2


def test_failed_attempts_are_rate_limited_per_client(tmp_path: Path) -> None:
    started = start_worker(tmp_path)
    try:
        with httpx.Client(base_url=started.server.url, auth=("root", "wrong-password")) as bad:
            codes = [bad.get("/connectors").status_code for _ in range(12)]
        assert codes[:10] == [401] * 10 and codes[10:] == [429, 429], codes
        # now even the right password waits: the address is blocked, not the user
        blocked = started.clients["root"].get("/connectors")
        assert_error(blocked, 429, contains=("127.0.0.1",))
        assert 1 <= int(blocked.headers["retry-after"]) <= 60
        assert started.anonymous.get("/healthz").status_code == 200
    finally:
        started.close()
        started.server.close()


def test_kafka_connects_jaas_basic_auth_is_refused_with_how_to(tmp_path: Path) -> None:
    extension = "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension"
    server = ServerProcess(tmp_path / "data", {"rest.extension.classes": extension})
    with pytest.raises(RuntimeError) as refused:
        server.start(timeout=20)
    assert "exited with 2" in str(refused.value)
    assert "rest.auth.users.file" in str(refused.value) and "penstock users add" in str(refused.value)
    server.close()


def test_a_users_file_others_may_read_is_refused(tmp_path: Path) -> None:
    users_file = tmp_path / "users.json"
    make_users_file(users_file)
    users_file.chmod(0o644)
    server = ServerProcess(tmp_path / "data", {"rest.auth.users.file": str(users_file)})
    with pytest.raises(RuntimeError) as refused:
        server.start(timeout=20)
    assert "chmod 600" in str(refused.value)
    server.close()


def test_users_add_asks_for_the_password_on_a_terminal(tmp_path: Path) -> None:
    """Without --password the password is asked twice on the terminal (getpass, not echoed)."""
    import pty

    users_file = tmp_path / "users.json"
    pid, fd = pty.fork()
    if pid == 0:  # the child, on the new terminal
        os.execv(sys.executable, [sys.executable, "-m", "app.cli", "users", "add", "tty-user",
                                  "--role", "admin", "--file", str(users_file)])  # fmt: skip
    output = b""

    def read_until(text: bytes) -> None:
        nonlocal output
        while text not in output:
            output += os.read(fd, 1024)

    read_until(b"Password: ")
    os.write(fd, b"typed-pass-123\n")
    read_until(b"(again): ")
    os.write(fd, b"typed-pass-123\n")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, output
    assert b"typed-pass-123" not in output  # not echoed
    loaded = UsersFile.load(users_file)
    assert loaded.check_password("tty-user", "typed-pass-123") is not None
    assert loaded.users["tty-user"].role is Role.ADMIN


def test_a_config_may_name_its_own_secret_keys(worker: Worker, tmp_path: Path) -> None:
    """``penstock.secret.keys`` marks keys the naming rule cannot know as secret: masked below
    admin and in validate answers, like password-typed keys."""
    name = uid("listed")
    credential = "listed-credential-5e1f"
    (tmp_path / "in.txt").write_text("")
    config = source_config(
        tmp_path / "in.txt",
        uid("t"),
        **{"my.custom.credential": credential, "penstock.secret.keys": "my.custom.credential"},
    )
    worker.server.create(name, config)
    for user in ("viewer", "ops"):
        shown = worker.clients[user].get(f"{path(name)}/config").json()
        assert shown["my.custom.credential"] == "[hidden]", shown
    assert worker.clients["root"].get(f"{path(name)}/config").json()["my.custom.credential"] == credential
    validated = worker.clients["root"].put(
        f"/connector-plugins/{config['connector.class']}/config/validate", json=config
    )
    assert validated.status_code == 200 and credential not in validated.text, validated.text
