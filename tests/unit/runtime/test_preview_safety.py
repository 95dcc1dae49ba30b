"""The transform preview never hands back a secret a config provider resolved."""

from __future__ import annotations

import pytest

from app.herder.validation import BadRequestError
from tests.unit.runtime.memory_runtime import memory_runtime
from tests.unit.runtime.test_sink_runner import RecordingSink

SECRET = "s3cr3t-value-from-the-environment"


async def test_a_config_error_quoting_a_resolved_value_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENSTOCK_PREVIEW_SECRET", SECRET)
    config = {
        "name": "p",
        "connector.class": "RecordingSink",
        "topics": "t",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "${env:PENSTOCK_PREVIEW_SECRET}",
    }
    async with memory_runtime(("sink", RecordingSink)) as rt:
        with pytest.raises(BadRequestError) as refused:
            await rt.herder.preview_transforms([{"value": "x"}], config=config)
    message = str(refused.value)
    assert "schemas.enable" in message
    assert SECRET not in message and "[hidden]" in message
