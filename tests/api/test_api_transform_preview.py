"""``POST /transforms/preview`` against a real worker: a good chain, a failing one, both directions."""

from __future__ import annotations

from typing import Any

import orjson

from tests.api.api_helpers import FILE_SINK, FILE_SOURCE, assert_error, path, uid
from tests.support.server import ServerProcess

JSON_VALUES = {
    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter.schemas.enable": "false",
}
SINK_CHAIN = {
    "connector.class": FILE_SINK,
    "topics": "orders",
    "file": "/tmp/preview-out.txt",
    **JSON_VALUES,
    "transforms": "route,mask,dropFlagged",
    "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
    "transforms.route.regex": "(.*)",
    "transforms.route.replacement": "$1-masked",
    "transforms.mask.type": "org.apache.kafka.connect.transforms.MaskField$Value",
    "transforms.mask.fields": "card",
    "transforms.dropFlagged.type": "org.apache.kafka.connect.transforms.Filter",
    "transforms.dropFlagged.predicate": "flagged",
    "predicates": "flagged",
    "predicates.flagged.type": "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
    "predicates.flagged.name": "skip",
}


def preview(api: ServerProcess, body: dict[str, Any]) -> Any:
    return api.client.post("/transforms/preview", json=body)


def test_a_sink_chain_transforms_drops_and_routes(api: ServerProcess) -> None:
    response = preview(
        api,
        {
            "config": SINK_CHAIN,
            "records": [
                {"topic": "orders", "key": "k1", "value": {"id": 1, "card": "4111-1111"}},
                {"topic": "orders", "value": {"id": 2, "card": "5500"}, "headers": {"skip": "yes"}},
            ],
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["direction"] == "sink"
    first, second = body["records"]
    assert first["error"] is None and first["dropped"] is False
    assert first["record"]["topic"] == "orders-masked"
    assert first["record"]["value"] == {"schema": None, "payload": {"id": 1, "card": ""}}
    assert first["record"]["key"] == {"schema": {"type": "string", "optional": True}, "payload": "k1"}
    assert second == {"index": 1, "dropped": True, "record": None, "error": None}


def test_a_failing_record_names_the_stage_the_transform_and_its_class(api: ServerProcess) -> None:
    config = {
        "connector.class": FILE_SINK,
        "topics": "t",
        "file": "/tmp/preview-out.txt",
        **JSON_VALUES,
        "transforms": "cast",
        "transforms.cast.type": "org.apache.kafka.connect.transforms.Cast$Value",
        "transforms.cast.spec": "id:int32",
    }
    response = preview(
        api, {"config": config, "records": [{"value": {"id": "12"}}, {"value": {"id": "x"}}, {"value": "{oops"}]}
    )
    assert response.status_code == 200, response.text
    good, bad, unreadable = response.json()["records"]
    assert good["record"]["value"]["payload"] == {"id": 12}
    assert bad["record"] is None
    assert bad["error"]["stage"] == "TRANSFORMATION"
    assert bad["error"]["transform"] == "cast"
    assert bad["error"]["class"] == "org.apache.kafka.connect.transforms.Cast$Value"
    assert bad["error"]["exception"] == "DataError"
    assert unreadable["error"]["stage"] == "VALUE_CONVERTER"
    assert unreadable["error"]["class"] == "org.apache.kafka.connect.json.JsonConverter"


def test_a_source_chain_runs_transforms_then_converters(api: ServerProcess) -> None:
    config = {
        "connector.class": FILE_SOURCE,
        "topic": "lines",
        "file": "/tmp/preview-in.txt",
        **JSON_VALUES,
        "transforms": "hoist,tag",
        "transforms.hoist.type": "org.apache.kafka.connect.transforms.HoistField$Value",
        "transforms.hoist.field": "line",
        "transforms.tag.type": "org.apache.kafka.connect.transforms.InsertField$Value",
        "transforms.tag.static.field": "origin",
        "transforms.tag.static.value": "file",
    }
    samples = [
        {"topic": "lines", "value": "hello"},
        {"topic": "lines", "value": "typed", "value_schema": {"type": "string"}},
    ]
    response = preview(api, {"config": config, "records": samples})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["direction"] == "source"
    schemaless, typed = body["records"]
    assert orjson.loads(schemaless["record"]["value"]) == {"line": "hello", "origin": "file"}
    assert orjson.loads(typed["record"]["value"]) == {"line": "typed", "origin": "file"}
    assert schemaless["record"]["topic"] == "lines"


def test_an_existing_connector_is_previewed_by_name(api: ServerProcess, tmp_path: Any) -> None:
    name = uid("previewed")
    (tmp_path / "in.txt").touch()
    config = {"connector.class": FILE_SOURCE, "topic": "t", "file": str(tmp_path / "in.txt"), **JSON_VALUES}
    config |= {"transforms": "hoist", "transforms.hoist.type": "HoistField$Value", "transforms.hoist.field": "f"}
    assert api.client.put(path(name) + "/config", json=config).status_code == 201
    response = preview(api, {"connector": name, "records": [{"value": 5}]})
    assert response.status_code == 200, response.text
    assert orjson.loads(response.json()["records"][0]["record"]["value"]) == {"f": 5}
    assert api.client.delete(path(name)).status_code == 204


def test_bad_requests_say_what_to_fix(api: ServerProcess) -> None:
    assert_error(preview(api, {"records": []}), 400, contains=('exactly one of "config"',))
    assert_error(preview(api, {"connector": "nope-" + uid("x"), "records": []}), 404)
    unknown = {**SINK_CHAIN, "transforms.route.type": "com.example.Missing"}
    assert_error(preview(api, {"config": unknown, "records": []}), 400, contains=("com.example.Missing",))
    assert_error(preview(api, {"config": SINK_CHAIN, "records": [{"vaule": 1}]}), 400, contains=("vaule",))
    bad_topic = {"config": SINK_CHAIN, "records": [{"topic": "a" * 250, "value": 1}]}
    assert_error(preview(api, bad_topic), 400, contains=("records.0.topic",))
    assert_error(preview(api, {"config": SINK_CHAIN, "records": [{"topic": "no spaces"}]}), 400)
    too_many = [{"value": 1}] * 1001
    assert_error(preview(api, {"config": SINK_CHAIN, "records": too_many}), 400, contains=("records", "at most 1000"))
