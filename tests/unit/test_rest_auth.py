"""The pure parts of REST auth: the roles table, the failure limiter, forwarded-request
signatures, the users file."""

from __future__ import annotations

import asyncio
import os
import stat
import time
from pathlib import Path

import pytest

from app.api.auth import forward
from app.api.auth.middleware import CHECKS_WAITING, Authenticator, FailureLimiter, _BusyError
from app.api.auth.roles import OPEN_PATHS, required_role, table_markdown
from app.api.auth.users import Role, UsersFile, UsersFileError, token_hash


@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("GET", "/connectors/a/config", Role.READ_ONLY),
        ("HEAD", "/metrics", Role.READ_ONLY),
        ("GET", "/openapi.json", Role.READ_ONLY),
        ("PUT", "/connectors/a/pause", Role.OPERATOR),
        ("PUT", "/connectors/a/resume/", Role.OPERATOR),
        ("POST", "/connectors/a%2Fb/restart", Role.OPERATOR),
        ("POST", "/connectors/a/tasks/0/restart", Role.OPERATOR),
        ("PUT", "/connectors/a/stop", Role.OPERATOR),
        ("POST", "/connectors", Role.ADMIN),
        ("DELETE", "/connectors/a", Role.ADMIN),
        ("PUT", "/connectors/pause", Role.ADMIN),
        ("PUT", "/connectors/a/pause/x", Role.ADMIN),
        ("PATCH", "/connectors/a/offsets", Role.ADMIN),
        ("PUT", "/admin/loggers/root", Role.ADMIN),
        ("POST", "/some/new/route", Role.ADMIN),
    ],
)
def test_required_roles(method: str, path: str, role: Role) -> None:
    assert required_role(method, path) is role


def test_roles_rank() -> None:
    assert Role.ADMIN.may(Role.OPERATOR) and Role.OPERATOR.may(Role.READ_ONLY)
    assert not Role.READ_ONLY.may(Role.OPERATOR) and not Role.OPERATOR.may(Role.ADMIN)
    assert {"/healthz", "/readyz"} == OPEN_PATHS


def test_the_readme_roles_table_is_in_sync() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert table_markdown() in readme, (
        "regenerate: python -c 'from app.api.auth.roles import *; print(table_markdown())'"
    )


def test_failure_limiter_blocks_after_the_limit_until_the_window_passes() -> None:
    limiter = FailureLimiter(limit=3, window=60)
    for t in (0, 1, 2):
        assert limiter.retry_after("a", now=t) == 0
        limiter.failed("a", now=t)
    assert limiter.retry_after("a", now=3) == pytest.approx(57)
    assert limiter.retry_after("b", now=3) == 0  # per address
    assert limiter.retry_after("a", now=60.5) == 0  # the first failure left the window


def test_forwarded_signatures() -> None:
    secret = "s" * 64
    header = forward.sign(secret, "ops", Role.OPERATOR, "PUT", "/connectors/a/pause", b"", now=1000)
    assert forward.verify(secret, header, "PUT", "/connectors/a/pause", b"", now=1010) == (
        "ops",
        Role.OPERATOR,
    )
    assert forward.verify("t" * 64, header, "PUT", "/connectors/a/pause", b"", now=1010) is None
    assert forward.verify(secret, header, "DELETE", "/connectors/a/pause", b"", now=1010) is None
    assert forward.verify(secret, header, "PUT", "/connectors/b/pause", b"", now=1010) is None
    assert forward.verify(secret, header, "PUT", "/connectors/a/pause", b"{}", now=1010) is None
    assert forward.verify(secret, header, "PUT", "/connectors/a/pause", b"", now=1000 + 61) is None
    promoted = header.replace(":operator:", ":admin:")
    assert forward.verify(secret, promoted, "PUT", "/connectors/a/pause", b"", now=1010) is None
    assert forward.verify(secret, "v1:garbage", "PUT", "/", b"", now=1010) is None


def test_users_file(tmp_path: Path) -> None:
    file = tmp_path / "sub" / "users.json"
    users = UsersFile.load_or_new(file)
    users.add("alice", "correct-horse", Role.ADMIN)
    token = users.new_token("alice")
    users.save()
    assert stat.S_IMODE(os.stat(file).st_mode) == 0o600
    text = file.read_text()
    assert "correct-horse" not in text and token not in text and token_hash(token) in text
    loaded = UsersFile.load(file)
    assert loaded.cluster_secret == users.cluster_secret and len(loaded.cluster_secret) == 64
    assert loaded.check_password("alice", "correct-horse") is not None
    assert loaded.check_password("alice", "wrong-horse") is None
    assert loaded.check_password("bob", "correct-horse") is None
    assert loaded.check_token(token) is not None and loaded.check_token(token + "x") is None
    with pytest.raises(UsersFileError, match="at least 8"):
        loaded.add("bob", "short", Role.ADMIN)
    with pytest.raises(UsersFileError, match="not a valid user name"):
        loaded.add("bob:x", "long-enough", Role.ADMIN)
    file.chmod(0o640)
    with pytest.raises(UsersFileError, match="chmod 600"):
        UsersFile.load(file)
    file.chmod(0o600)
    file.write_text("{}")
    with pytest.raises(UsersFileError, match="not a Penstock users file"):
        UsersFile.load(file)


async def test_password_checks_run_off_the_event_loop_and_are_bounded(tmp_path: Path) -> None:
    """argon2 costs tens of ms a check: they run in threads, CHECKS_AT_ONCE at a time, and past
    CHECKS_WAITING waiting the next is refused at once instead of queueing without end."""
    file = tmp_path / "users.json"
    users = UsersFile.load_or_new(file)
    users.add("alice", "correct-horse", Role.ADMIN)
    users.save()
    auth = Authenticator(file)
    before = time.perf_counter()
    users.check_password("alice", "wrong")
    one_check = time.perf_counter() - before
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    results = await asyncio.gather(*(auth.check_basic("alice", f"wrong-{i}") for i in range(6)))
    done.set()
    await ticking
    assert results == [None] * 6
    assert max(gaps) < one_check / 2, (max(gaps), one_check)  # the loop ran while argon2 worked
    assert (await auth.check_basic("alice", "correct-horse")) is not None

    auth._waiting = CHECKS_WAITING  # as if that many were queued already
    with pytest.raises(_BusyError):
        await auth.check_basic("alice", "another-wrong-one")
