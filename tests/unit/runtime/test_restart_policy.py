"""Which failures are restarted automatically, and how long to wait."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from app.config.connector_config import SourceConnectorConfig
from app.runtime.restart_policy import RestartPolicy, is_retriable
from connectors.sdk.errors import ConfigError, ConnectError, DataError, NotFoundError, RetriableError


def _config(props: dict[str, str]) -> SourceConnectorConfig:
    return SourceConnectorConfig.from_props({"name": "c", "connector.class": "Any", **props})


def chained(outer: BaseException, cause: BaseException) -> BaseException:
    try:
        raise outer from cause
    except BaseException as exc:
        return exc


@pytest.mark.parametrize(
    "error",
    [
        RetriableError("try later"),
        OSError("disk"),
        ConnectionError("refused"),
        ConnectionResetError("reset"),
        TimeoutError("slow"),
        ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
        OSError(errno.ENOSPC, "No space left on device"),
        OSError(errno.EHOSTUNREACH, "No route to host"),
        RetriableError("the file is not there yet"),
    ],
)
def test_retriable_errors(error: BaseException) -> None:
    assert is_retriable(error) is True


@pytest.mark.parametrize(
    "error",
    [
        ConfigError("bad"),
        DataError("bad record"),
        ValueError("bug"),
        KeyError("k"),
        ConnectError("x"),
        NotFoundError("n"),
    ],
)
def test_non_retriable_errors(error: BaseException) -> None:
    assert is_retriable(error) is False


def _raised(call: Callable[..., object], *args: object) -> OSError:
    try:
        call(*args)
    except OSError as exc:
        return exc
    raise AssertionError("no error")


@pytest.mark.parametrize(
    "error",
    [
        FileNotFoundError(errno.ENOENT, "No such file or directory"),
        PermissionError(errno.EACCES, "Permission denied"),
        IsADirectoryError(errno.EISDIR, "Is a directory"),
        NotADirectoryError(errno.ENOTDIR, "Not a directory"),
        OSError(errno.EROFS, "Read-only file system"),
        OSError(errno.ENAMETOOLONG, "File name too long"),
        FileNotFoundError("raised without an errno"),
    ],
)
def test_path_errors_are_fatal(error: BaseException) -> None:
    """A path that does not work stays broken until someone changes the filesystem or the config."""
    assert is_retriable(error) is False
    assert RestartPolicy().allows(error, 0) is False


def test_path_errors_raised_by_the_os_are_fatal(tmp_path: Path) -> None:
    (tmp_path / "file").touch()
    assert is_retriable(_raised(open, tmp_path / "gone" / "out.txt", "a")) is False
    assert is_retriable(_raised(open, tmp_path, "a")) is False
    assert is_retriable(_raised(os.listdir, tmp_path / "file")) is False


def test_path_error_under_a_wrapper_is_fatal_unless_the_plugin_says_retriable() -> None:
    missing = FileNotFoundError(errno.ENOENT, "No such file or directory")
    assert is_retriable(chained(RuntimeError("cannot open"), missing)) is False
    assert is_retriable(chained(RetriableError("not there yet"), missing)) is True


def test_retriable_cause_makes_the_chain_retriable() -> None:
    assert is_retriable(chained(ValueError("wrapped"), ConnectionError("refused"))) is True
    deep = chained(RuntimeError("top"), chained(ValueError("mid"), TimeoutError()))
    assert is_retriable(deep) is True


def test_fatal_error_wins_over_a_retriable_cause() -> None:
    assert is_retriable(chained(ConfigError("bad config"), OSError("io"))) is False
    assert is_retriable(chained(DataError("bad data"), RetriableError("later"))) is False


def test_fatal_cause_under_an_unknown_error_is_not_retriable() -> None:
    assert is_retriable(chained(RuntimeError("wrapped"), ConfigError("bad"))) is False


def test_implicit_context_is_not_followed() -> None:
    try:
        try:
            raise ConnectionError("refused")
        except ConnectionError:
            raise ValueError("while handling") from None
    except ValueError as exc:
        assert is_retriable(exc) is False


def test_cause_cycle_terminates() -> None:
    a, b = ValueError("a"), RuntimeError("b")
    a.__cause__, b.__cause__ = b, a
    assert is_retriable(a) is False


def test_from_config_defaults() -> None:
    policy = RestartPolicy.from_config(_config({}))
    assert policy == RestartPolicy(enabled=True, max_attempts=10, initial_backoff_s=1.0, max_backoff_s=60.0)


def test_from_config_parses_values() -> None:
    policy = RestartPolicy.from_config(
        _config(
            {
                "auto.restart.enable": " FALSE ",
                "auto.restart.max.attempts": "3",
                "auto.restart.backoff.initial.ms": "250",
                "auto.restart.backoff.max.ms": "1500",
            }
        )
    )
    assert policy == RestartPolicy(enabled=False, max_attempts=3, initial_backoff_s=0.25, max_backoff_s=1.5)
    assert RestartPolicy.from_config(_config({"auto.restart.enable": "True"})).enabled is True


def test_delay_is_exponential_and_capped() -> None:
    policy = RestartPolicy(initial_backoff_s=1.0, max_backoff_s=10.0)
    assert [policy.delay(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert isinstance(policy.delay(1), float)
    assert RestartPolicy(initial_backoff_s=0.25, max_backoff_s=60).delay(3) == 1.0


def test_delay_is_capped_for_very_many_attempts() -> None:
    policy = RestartPolicy(max_attempts=1_000_000, initial_backoff_s=1.0, max_backoff_s=60.0)
    assert policy.delay(2000) == 60.0


def test_allows() -> None:
    policy = RestartPolicy(max_attempts=2)
    assert policy.allows(OSError(), 0) is True
    assert policy.allows(OSError(), 1) is True
    assert policy.allows(OSError(), 2) is False  # attempts used up
    assert policy.allows(ConfigError("x"), 0) is False  # not retriable
    assert RestartPolicy(enabled=False).allows(OSError(), 0) is False
    assert RestartPolicy(max_attempts=0).allows(RetriableError("x"), 0) is False
