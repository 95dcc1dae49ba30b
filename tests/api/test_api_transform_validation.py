"""``/config/validate`` reports transform settings Kafka Connect only refuses when the task starts.

Kafka validates a transform's ConfigDef but not what its ``configure`` checks (RegexRouter's group
references fail per record, TimestampRouter's pattern on the first record, an ExtractField path
and InsertField's "No field insertion configured" at start-up). Penstock reports them on the
``transforms.<alias>.<key>`` entry, so a bad chain is refused before the connector exists
(docs/compatibility.md).
"""

from __future__ import annotations

import pytest

from tests.support.server import ServerProcess

pytestmark = pytest.mark.integration
T = "org.apache.kafka.connect.transforms."


def transform_errors(api: ServerProcess, transform: dict[str, str]) -> dict[str, list[str]]:
    config = {
        "connector.class": "FileStreamSink",
        "name": "checked",
        "topics": "t",
        "transforms": "x",
        **{f"transforms.x.{k}": v for k, v in transform.items()},
    }
    response = api.client.put("/connector-plugins/FileStreamSink/config/validate", json=config)
    assert response.status_code == 200, response.text
    body = response.json()
    errors = {c["value"]["name"]: c["value"]["errors"] for c in body["configs"] if c["value"]["errors"]}
    assert body["error_count"] == sum(map(len, errors.values()))
    return errors


@pytest.mark.parametrize(
    ("transform", "key", "message"),
    [
        (
            {"type": T + "RegexRouter", "regex": "(.*)-raw", "replacement": "$2-routed"},
            "replacement",
            "Invalid value $2-routed for configuration replacement: No group 2 at index 0: the regex has 1 "
            "capturing group(s); write $n for group n (e.g. $1), ${name} for a named group (?<name>...), "
            "and \\$ for a literal '$'",
        ),
        (
            {"type": "TimestampRouter", "timestamp.format": "yyyyMMddq"},
            "timestamp.format",
            "Invalid value yyyyMMddq for configuration timestamp.format: Illegal pattern character 'q'",
        ),
        (
            {"type": T + "ExtractField$Value", "field": "`a.b", "field.syntax.version": "V2"},
            "field",
            "Invalid value `a.b for configuration field: Incomplete backtick pair in path: [`a.b], "
            "consider adding a backslash before backtick at position 0 to escape it",
        ),
        (
            {"type": T + "InsertField$Value", "static.field": "s"},
            "static.value",
            "Invalid value null for configuration static.value: No value specified for static field: s",
        ),
    ],
)
def test_start_time_checks_of_a_transform_show_at_validate(
    api: ServerProcess, transform: dict[str, str], key: str, message: str
) -> None:
    assert transform_errors(api, transform) == {f"transforms.x.{key}": [message]}


def test_a_valid_chain_validates_clean(api: ServerProcess) -> None:
    assert (
        transform_errors(
            api, {"type": T + "RegexRouter", "regex": "(?<base>.*)-raw", "replacement": "${base}"}
        )
        == {}
    )
