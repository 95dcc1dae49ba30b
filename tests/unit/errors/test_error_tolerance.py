"""ErrorHandler: errors.tolerance, error logging and dead-letter records with context headers."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from app.config.connector_config import SinkConnectorConfig
from app.errors.tolerance import SKIP, ErrorHandler, Retry, Stage, ToleranceExceeded
from app.runtime.pipeline import TransformChain
from app.storage.base import ConsumerRecord
from connectors.sdk.errors import DataError, RetriableError
from connectors.sdk.records import ConnectRecord


def _config(props: dict[str, str]) -> SinkConnectorConfig:
    return SinkConnectorConfig.from_props({"name": "c", "connector.class": "Any", **props})


def original() -> ConsumerRecord:
    return ConsumerRecord("orders", 2, 41, 1_700_000_000_000, b"key", b"{bad json", [("trace", b"abc")])


def fail() -> None:
    raise DataError("Converting byte[] to Kafka Connect data failed")


def test_from_config_defaults() -> None:
    handler = ErrorHandler.from_config("c", 0, _config({}))
    assert (handler.connector, handler.task) == ("c", 0)
    assert handler.tolerate_all is False
    assert handler.log_errors is False
    assert handler.log_messages is False
    assert handler.dlq_topic is None
    assert handler.dlq_headers is False


def test_from_config_parses_every_setting() -> None:
    handler = ErrorHandler.from_config(
        "c",
        3,
        _config(
            {
                "errors.tolerance": " ALL ",
                "errors.log.enable": "true",
                "errors.log.include.messages": "TRUE",
                "errors.deadletterqueue.topic.name": "  dlq  ",
                "errors.deadletterqueue.context.headers.enable": "true",
            }
        ),
    )
    assert handler.task == 3
    assert handler.tolerate_all is True
    assert handler.log_errors is True
    assert handler.log_messages is True
    assert handler.dlq_topic == "dlq"
    assert handler.dlq_headers is True
    assert (
        ErrorHandler.from_config("c", 0, _config({"errors.deadletterqueue.topic.name": "   "})).dlq_topic
        is None
    )


def test_run_returns_the_value_including_none() -> None:
    handler = ErrorHandler("c", 0)
    assert handler.run(Stage.VALUE_CONVERTER, lambda: 42) == 42
    assert handler.run(Stage.VALUE_CONVERTER, lambda: None) is None
    assert handler.run(Stage.VALUE_CONVERTER, lambda a, b: a - b, 5, 2) == 3  # positional args passed on
    assert handler.errors_total == 0


def test_tolerance_none_raises_tolerance_exceeded_with_the_cause() -> None:
    handler = ErrorHandler("c", 0, dlq_topic="dlq")
    with pytest.raises(ToleranceExceeded) as info:
        handler.run(Stage.KEY_CONVERTER, fail, original=original())
    assert str(info.value) == (
        "Tolerance exceeded in error handler at stage KEY_CONVERTER: Converting byte[] to Kafka Connect data failed"
    )
    assert isinstance(info.value.__cause__, DataError)
    assert handler.errors_total == 1
    assert handler.take_dead_letters() == []


def test_tolerance_all_returns_skip_and_counts() -> None:
    handler = ErrorHandler("c", 0, tolerate_all=True)
    assert handler.run(Stage.TRANSFORMATION, fail) is SKIP
    assert handler.run(Stage.TRANSFORMATION, fail) is SKIP
    assert handler.errors_total == 2
    assert handler.take_dead_letters() == []  # no DLQ configured


def test_tolerance_all_without_original_record_writes_no_dead_letter() -> None:
    handler = ErrorHandler("c", 0, tolerate_all=True, dlq_topic="dlq")
    assert handler.run(Stage.TRANSFORMATION, fail) is SKIP
    assert handler.take_dead_letters() == []


def test_dead_letter_without_context_headers_keeps_the_original_bytes() -> None:
    handler = ErrorHandler("c", 0, tolerate_all=True, dlq_topic="dlq")
    assert handler.run(Stage.VALUE_CONVERTER, fail, original=original()) is SKIP
    [letter] = handler.take_dead_letters()
    assert letter.topic == "dlq"
    assert letter.key == b"key"
    assert letter.value == b"{bad json"
    assert letter.partition is None
    assert letter.timestamp == 1_700_000_000_000
    assert list(letter.headers) == [("trace", b"abc")]
    assert handler.take_dead_letters() == []  # taken


def test_dead_letter_context_headers() -> None:
    handler = ErrorHandler("my-sink", 5, tolerate_all=True, dlq_topic="dlq", dlq_headers=True)
    handler.run(Stage.VALUE_CONVERTER, fail, original=original())
    [letter] = handler.take_dead_letters()
    headers = dict(letter.headers)
    assert letter.headers[0] == ("trace", b"abc")  # original headers first
    assert headers["__connect.errors.topic"] == b"orders"
    assert headers["__connect.errors.partition"] == b"2"
    assert headers["__connect.errors.offset"] == b"41"
    assert headers["__connect.errors.connector.name"] == b"my-sink"
    assert headers["__connect.errors.task.id"] == b"5"
    assert headers["__connect.errors.stage"] == b"VALUE_CONVERTER"
    assert headers["__connect.errors.exception.message"] == b"Converting byte[] to Kafka Connect data failed"
    stack = headers["__connect.errors.exception.stacktrace"].decode()
    assert "Traceback" in stack
    assert "DataError: Converting byte[] to Kafka Connect data failed" in stack
    assert headers["__connect.errors.class.name"].endswith(b".fail")  # the function that was running
    assert b"DataError" in headers["__connect.errors.exception.class.name"]
    assert all(v is not None for v in headers.values())


def test_exception_class_name_header_is_fully_qualified() -> None:
    handler = ErrorHandler("c", 0, tolerate_all=True, dlq_topic="dlq", dlq_headers=True)
    handler.run(Stage.VALUE_CONVERTER, fail, original=original())
    headers = dict(handler.take_dead_letters()[0].headers)
    assert headers["__connect.errors.exception.class.name"] == b"connectors.sdk.errors.DataError"


def test_errors_are_logged_only_when_enabled_and_messages_only_when_included() -> None:
    quiet = ErrorHandler("c", 0, tolerate_all=True)
    with capture_logs() as logs:
        quiet.run(Stage.TRANSFORMATION, fail, shown="the record")
    assert [e for e in logs if e["log_level"] == "error"] == []

    loud = ErrorHandler("c", 0, tolerate_all=True, log_errors=True)
    with capture_logs() as logs:
        loud.run(Stage.TRANSFORMATION, fail, shown="the record")
    [entry] = [e for e in logs if e["log_level"] == "error"]
    assert entry["stage"] == "TRANSFORMATION"
    assert "DataError" in entry["error"]
    assert entry["record"] is None

    verbose = ErrorHandler("c", 0, tolerate_all=True, log_errors=True, log_messages=True)
    with capture_logs() as logs:
        verbose.run(Stage.TRANSFORMATION, fail, shown="the record")
    [entry] = [e for e in logs if e["log_level"] == "error"]
    assert entry["record"] == "'the record'"


def test_base_exceptions_are_not_swallowed() -> None:
    handler = ErrorHandler("c", 0, tolerate_all=True)

    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        handler.run(Stage.TRANSFORMATION, interrupted)
    assert handler.errors_total == 0


class Flaky:
    """Fails with ``error`` the first ``failures`` calls, then returns ``"ok"``."""

    def __init__(self, failures: int, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or RetriableError("registry unreachable")
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "ok"


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def test_retry_config_is_read_from_the_typed_config() -> None:
    handler = ErrorHandler.from_config(
        "c", 0, _config({"errors.retry.timeout": "-1", "errors.retry.delay.max.ms": "500"})
    )
    assert (handler.retry_timeout_ms, handler.retry_delay_max_ms) == (-1, 500)


def test_without_retry_timeout_a_retriable_error_is_not_retried() -> None:
    flaky = Flaky(1)
    with pytest.raises(ToleranceExceeded):
        ErrorHandler("c", 0).run(Stage.VALUE_CONVERTER, flaky)
    assert flaky.calls == 1


async def test_retriable_failures_are_retried_with_exponential_backoff_until_they_succeed() -> None:
    handler = ErrorHandler("c", 0, retry_timeout_ms=60_000, retry_delay_max_ms=1_000)
    flaky, sleeps = Flaky(4), Sleeps()
    first = handler.run(Stage.VALUE_CONVERTER, flaky)
    assert isinstance(first, Retry)
    assert await handler.retry(first, sleeps) == "ok"
    assert flaky.calls == 5
    assert sleeps.delays == [0.3, 0.6, 1.0, 1.0]  # doubling from 300 ms, capped by errors.retry.delay.max.ms
    assert handler.errors_total == 0


async def test_retries_stop_at_the_timeout_and_the_tolerance_decides() -> None:
    flaky = Flaky(10**6)
    strict = ErrorHandler("c", 0, retry_timeout_ms=50, retry_delay_max_ms=10)
    first = strict.run(Stage.TRANSFORMATION, flaky)
    assert isinstance(first, Retry)
    with pytest.raises(ToleranceExceeded, match="registry unreachable"):
        await strict.retry(first)  # real sleeps: ~50 ms in all
    assert flaky.calls > 2
    tolerant = ErrorHandler("c", 0, tolerate_all=True, retry_timeout_ms=50, retry_delay_max_ms=10)
    first = tolerant.run(Stage.TRANSFORMATION, flaky)
    assert isinstance(first, Retry)
    assert await tolerant.retry(first) is SKIP
    assert tolerant.errors_total == 1


async def test_a_non_retriable_error_during_retries_is_not_retried_further() -> None:
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        raise RetriableError("flaky") if len(calls) == 1 else DataError("bad record")

    handler = ErrorHandler("c", 0, tolerate_all=True, retry_timeout_ms=-1)
    first = handler.run(Stage.KEY_CONVERTER, fn)
    assert isinstance(first, Retry)
    assert await handler.retry(first, Sleeps()) is SKIP
    assert len(calls) == 2


class _Exploding:
    aliases = ("org.example.Exploding",)

    def apply(self, record: object) -> object:
        raise DataError("boom")


def _chain_of_three() -> TransformChain:
    from tests.unit.runtime.test_transform_chain import Append, step

    return TransformChain(
        [step("first", Append("!")), step("bad", _Exploding()), step("last", Append("?"))]  # type: ignore[arg-type]
    )


def test_a_failing_transform_is_named_in_the_dead_letter_headers_not_the_chain() -> None:
    handler = ErrorHandler("c", 0, tolerate_all=True, dlq_topic="dlq", dlq_headers=True)
    chain = _chain_of_three()
    record = ConnectRecord(topic="t", value="v")
    assert handler.run(Stage.TRANSFORMATION, chain.apply, record, original=original()) is SKIP
    headers = dict(handler.take_dead_letters()[0].headers)
    assert headers["__connect.errors.class.name"] == b"org.example.Exploding"
    assert headers["__connect.errors.stage"] == b"TRANSFORMATION"


def test_under_tolerance_none_the_failure_names_the_stage_and_the_transform() -> None:
    handler = ErrorHandler("c", 0)
    with pytest.raises(ToleranceExceeded, match=r"at stage TRANSFORMATION in org\.example\.Exploding: boom"):
        handler.run(Stage.TRANSFORMATION, _chain_of_three().apply, ConnectRecord(topic="t", value="v"))
