"""PluginConfig: ConfigDef-style description, Kafka-worded validation and parsing."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, model_validator

from connectors.sdk.config import (
    CommaList,
    ConfigType,
    EmptyConfig,
    Importance,
    PluginConfig,
    SettingError,
    Width,
    render,
    setting,
)
from connectors.sdk.errors import ConfigError


class SampleConfig(PluginConfig):
    group_name = "Sample"

    batch_size: int = setting(doc="Records per batch", ge=1, importance=Importance.HIGH)
    topic: str = setting(doc="Target topic", min_length=1, group="Where", order_in_group=2, width=Width.LONG)
    enabled: bool = setting(True, doc="Turn it on")
    disabled: bool = setting(False, doc="Turn it off")
    hosts: CommaList = setting(["a", "b"], doc="Hosts", display_name="Host list")
    password: SecretStr = setting(doc="Secret")
    ratio: float = setting(0.5, doc="Ratio", le=1.0)
    note: str | None = setting(None, doc="Optional note")
    loader: str = setting("x.Y", doc="A class", type=ConfigType.CLASS, dependents=("topic",))


VALID = {"batch.size": "10", "topic": "t", "password": "pw"}


def by_name(items: list) -> dict:  # type: ignore[type-arg]
    return {i.name: i for i in items}


# -- describe ---------------------------------------------------------------------------------


def test_describe_lists_dotted_keys_in_declaration_order() -> None:
    assert [k.name for k in SampleConfig.describe()] == [
        "batch.size",
        "topic",
        "enabled",
        "disabled",
        "hosts",
        "password",
        "ratio",
        "note",
        "loader",
    ]
    assert SampleConfig.keys() == [k.name for k in SampleConfig.describe()]


def test_describe_types() -> None:
    keys = by_name(SampleConfig.describe())
    assert {n: k.type for n, k in keys.items()} == {
        "batch.size": ConfigType.INT,
        "topic": ConfigType.STRING,
        "enabled": ConfigType.BOOLEAN,
        "disabled": ConfigType.BOOLEAN,
        "hosts": ConfigType.LIST,
        "password": ConfigType.PASSWORD,
        "ratio": ConfigType.DOUBLE,
        "note": ConfigType.STRING,
        "loader": ConfigType.CLASS,
    }


def test_describe_required_iff_no_default_and_default_rendering() -> None:
    keys = by_name(SampleConfig.describe())
    required = {n for n, k in keys.items() if k.required}
    assert required == {"batch.size", "topic", "password"}
    assert {n: k.default_value for n, k in keys.items()} == {
        "batch.size": None,
        "topic": None,
        "enabled": "true",
        "disabled": "false",
        "hosts": "a,b",
        "password": None,
        "ratio": "0.5",
        "note": None,
        "loader": "x.Y",
    }


def test_describe_metadata() -> None:
    keys = by_name(SampleConfig.describe())
    assert keys["batch.size"].importance is Importance.HIGH
    assert keys["batch.size"].documentation == "Records per batch"
    assert keys["batch.size"].group == "Sample"  # the class default group
    assert keys["batch.size"].display_name == "batch.size"
    assert keys["topic"].group == "Where"
    assert keys["topic"].order == 2
    assert keys["topic"].width is Width.LONG
    assert keys["hosts"].display_name == "Host list"
    assert keys["loader"].dependents == ["topic"]
    assert keys["enabled"].importance is Importance.MEDIUM


def test_empty_config_describes_nothing() -> None:
    assert EmptyConfig.describe() == []
    assert EmptyConfig.validate_props({"anything": "x"}) == []


def test_render() -> None:
    assert render(None, ConfigType.STRING) is None
    assert render("s", ConfigType.PASSWORD) == "[hidden]"
    assert render(SecretStr("s"), ConfigType.STRING) == "[hidden]"
    assert render(True, ConfigType.BOOLEAN) == "true"
    assert render(["x", 1], ConfigType.LIST) == "x,1"
    assert render((), ConfigType.LIST) == ""
    assert render(ConfigType.INT, ConfigType.STRING) == "INT"
    assert render(3, ConfigType.INT) == "3"


# -- validate_props ---------------------------------------------------------------------------


def test_valid_props_have_no_errors_and_show_values() -> None:
    values = by_name(SampleConfig.validate_props({**VALID, "hosts": "x, y"}))
    assert all(v.errors == [] for v in values.values())
    assert values["batch.size"].value == "10"
    assert values["hosts"].value == "x, y"  # the raw value as given
    assert values["enabled"].value == "true"  # the default, rendered
    assert values["note"].value is None
    assert values["password"].value == "[hidden]"
    assert SampleConfig.errors_by_key(VALID) == {}


def test_missing_required_uses_kafka_wording() -> None:
    errors = SampleConfig.errors_by_key({})
    assert errors == {
        "batch.size": ['Missing required configuration "batch.size" which has no default value.'],
        "topic": ['Missing required configuration "topic" which has no default value.'],
        "password": ['Missing required configuration "password" which has no default value.'],
    }


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("batch.size", "abc", "Invalid value abc for configuration batch.size: Not a number of type INT"),
        ("batch.size", "1.5", "Invalid value 1.5 for configuration batch.size: Not a number of type INT"),
        ("batch.size", "0", "Invalid value 0 for configuration batch.size: Value must be at least 1"),
        ("ratio", "x", "Invalid value x for configuration ratio: Not a number of type DOUBLE"),
        ("ratio", "2", "Invalid value 2 for configuration ratio: Value must be no more than 1.0"),
        ("topic", "", "Invalid value  for configuration topic: String may not be empty"),
        (
            "enabled",
            "maybe",
            "Invalid value maybe for configuration enabled: Expected value to be either true or false",
        ),
    ],
)
def test_invalid_values_use_kafka_wording(key: str, value: str, message: str) -> None:
    values = by_name(SampleConfig.validate_props({**VALID, key: value}))
    assert values[key].errors == [message]
    assert values[key].value == value
    others = [v.errors for n, v in values.items() if n != key]
    assert all(e == [] for e in others)


def test_whitespace_only_string_is_stripped_to_empty() -> None:
    errors = SampleConfig.errors_by_key({**VALID, "topic": "   "})
    assert errors["topic"][0].endswith("String may not be empty")


def test_password_values_are_hidden_in_values_and_errors() -> None:
    class Secretive(PluginConfig):
        password: SecretStr = setting(doc="p", min_length=8)

    [value] = Secretive.validate_props({"password": "short"})
    assert value.value == "[hidden]"
    assert len(value.errors) == 1
    assert value.errors[0].startswith("Invalid value [hidden] for configuration password: ")
    assert "short" not in value.errors[0]


@pytest.mark.parametrize("value", ["yes", "1", "on", "t"])
def test_boolean_accepts_only_true_or_false(value: str) -> None:
    errors = SampleConfig.errors_by_key({**VALID, "enabled": value})
    assert errors == {
        "enabled": [
            f"Invalid value {value} for configuration enabled: Expected value to be either true or false"
        ]
    }


@pytest.mark.parametrize(("text", "expected"), [("TRUE", True), ("False", False), ("true", True)])
def test_boolean_true_false_any_case(text: str, expected: bool) -> None:
    assert SampleConfig.parse({**VALID, "enabled": text}).enabled is expected


@pytest.mark.parametrize(("text", "expected"), [(" false ", False), ("true ", True)])
def test_boolean_values_are_trimmed(text: str, expected: bool) -> None:
    assert SampleConfig.parse({**VALID, "enabled": text}).enabled is expected


# -- parse ------------------------------------------------------------------------------------


def test_parse_returns_typed_values() -> None:
    config = SampleConfig.parse(
        {**VALID, "batch.size": " 25 ", "topic": "  t  ", "hosts": " a , b,c ", "ratio": "0.25"}
    )
    assert config.batch_size == 25
    assert config.topic == "t"  # str values are stripped
    assert config.hosts == ["a", "b", "c"]
    assert config.password.get_secret_value() == "pw"
    assert config.ratio == 0.25
    assert config.enabled is True
    assert config.note is None


@pytest.mark.parametrize(
    ("text", "expected"), [("", []), ("   ", []), ("a", ["a"]), ("a,,b", ["a", "", "b"])]
)
def test_comma_list_parsing(text: str, expected: list[str]) -> None:
    assert SampleConfig.parse({**VALID, "hosts": text}).hosts == expected


def test_parse_ignores_unknown_keys_and_is_frozen() -> None:
    config = SampleConfig.parse({**VALID, "unknown.key": "x"})
    assert not hasattr(config, "unknown_key")
    with pytest.raises(ValueError, match="frozen"):
        config.topic = "other"  # type: ignore[misc]


def test_parse_raises_config_error_listing_every_problem() -> None:
    with pytest.raises(ConfigError) as info:
        SampleConfig.parse({"batch.size": "0", "enabled": "maybe"})
    problems = str(info.value).split("; ")
    assert sorted(problems) == sorted(
        [
            "Invalid value 0 for configuration batch.size: Value must be at least 1",
            'Missing required configuration "topic" which has no default value.',
            "Invalid value maybe for configuration enabled: Expected value to be either true or false",
            'Missing required configuration "password" which has no default value.',
        ]
    )


def test_numbers_given_as_numbers_are_coerced_to_strings() -> None:
    config = SampleConfig.parse({"batch.size": 3, "topic": 42, "password": "p"})  # type: ignore[dict-item]
    assert config.topic == "42"
    assert config.batch_size == 3


def test_a_cross_field_error_on_an_unset_key_shows_null_as_kafka_does() -> None:
    """ConfigException(name, null, message) prints ``Invalid value null``; Python's None never shows."""

    class Paired(PluginConfig):
        field: str | None = setting(None, doc="f")
        value: str | None = setting(None, doc="v")

        @model_validator(mode="after")
        def _both(self) -> Paired:
            if self.field is not None and self.value is None:
                raise SettingError("value", f"No value specified for field: {self.field}")
            return self

    assert Paired.errors_by_key({"field": "f"}) == {
        "value": ["Invalid value null for configuration value: No value specified for field: f"]
    }


def test_messages_never_echo_credentials_a_value_carries() -> None:
    """A connection URL with a password in it, refused by a validator: the message shows the value
    (as Kafka does) without the password."""

    class WithUrl(PluginConfig):
        url: str = setting(doc="u", pattern=r"^jdbc:postgresql:")

    for value, secret in (
        ("jdbc:oracle:thin:scott/tiger@db:1521:x", "tiger"),
        ("mysql://app:hunter2@db/x", "hunter2"),
        ("jdbc:mysql://db/x?user=app&password=hunter2&ssl=true", "hunter2"),
    ):
        messages = WithUrl.errors_by_key({"url": value})
        (message,) = messages["url"]
        assert message.startswith("Invalid value ") and secret not in message, message
        assert "[hidden]" in message


def test_parse_choice_trims_folds_case_and_keeps_each_systems_wording() -> None:
    from connectors.sdk.config import parse_choice

    assert parse_choice(" Upsert ", ["insert", "upsert"], message="String must be one of: ") == "upsert"
    assert parse_choice("delete", ["IGNORE", "DELETE"], message="m", upper=True) == "DELETE"
    assert parse_choice("never", ["no_data"], message="m", aliases={"never": "no_data"}) == "no_data"
    assert parse_choice(3, ["a"], message="m") == 3  # pydantic judges non-text values
    with pytest.raises(ValueError, match=r"^Value must be one of a, b$"):
        parse_choice("c", ["a", "b"], message="Value must be one of ")
