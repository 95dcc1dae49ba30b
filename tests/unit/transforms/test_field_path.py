"""V1/V2 field paths against KIP-821's rules and Kafka's SingleFieldPath; expected steps written
from those rules, not from running the code."""

from __future__ import annotations

import pytest

from connectors.sdk import DataError, SchemaBuilder, Struct
from connectors.sdk.config import PluginConfig
from connectors.sdk.data import INT32_SCHEMA, STRING_SCHEMA
from connectors.transforms.field_path import (
    FieldPath,
    FieldPathError,
    FieldSyntaxVersion,
    SyntaxVersion,
    syntax_version_setting,
)

V2 = FieldSyntaxVersion.V2


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        ("foo", ("foo",)),
        ("foo.bar", ("foo", "bar")),
        ("foo.bar.baz", ("foo", "bar", "baz")),
        ("`foo.bar`.baz", ("foo.bar", "baz")),
        ("`foo.bar`", ("foo.bar",)),
        ("foo.`bar.baz`", ("foo", "bar.baz")),
        ("foo.", ("foo", "")),
        (".foo", ("", "foo")),
        ("`foo`bar`.baz", ("foo`bar", "baz")),  # a backtick not followed by a dot is part of the name
        ("`foo\\`.bar`.baz", ("foo`.bar", "baz")),  # \` before a dot is an escaped backtick
        ("`foo\\`bar`", ("foo\\`bar",)),  # elsewhere the backslash stays
        ("foo`bar.baz", ("foo`bar", "baz")),  # backticks only open a step at its start
        ("`a`.", ("a", "")),
    ],
)
def test_v2_steps(text: str, steps: tuple[str, ...]) -> None:
    assert FieldPath.parse(text, V2).steps == steps


def test_v1_is_one_step_whatever_it_holds() -> None:
    assert FieldPath.parse("a.`b`.c").steps == ("a.`b`.c",)


@pytest.mark.parametrize(("text", "position"), [("`foo", 0), ("foo.`bar", 4), ("`foo\\`", 0)])
def test_unclosed_backtick_says_where(text: str, position: int) -> None:
    with pytest.raises(FieldPathError) as caught:
        FieldPath.parse(text, V2)
    assert str(caught.value) == (
        f"Incomplete backtick pair in path: [{text}], consider adding a backslash before backtick at "
        f"position {position} to escape it"
    )


ADDRESS = SchemaBuilder.struct().field("city", STRING_SCHEMA).field("zip", INT32_SCHEMA).build()
OPTIONAL_ADDRESS = SchemaBuilder.struct().optional().field("city", STRING_SCHEMA).build()
PERSON = (
    SchemaBuilder.struct()
    .field("address", ADDRESS)
    .field("other", OPTIONAL_ADDRESS)
    .field("age", INT32_SCHEMA)
    .field("a.b", SchemaBuilder.string().optional().default_value("dflt"))
    .build()
)


def person() -> Struct:
    return Struct(PERSON, {"address": Struct(ADDRESS, {"city": "Oslo", "zip": 150}), "other": None, "age": 7})


def test_nested_struct_lookup() -> None:
    path = FieldPath.parse("address.city", V2)
    member = path.field_in(PERSON)
    assert member is not None and member.schema == STRING_SCHEMA
    assert path.value_in_struct(person()) == "Oslo"


def test_missing_or_null_steps_give_none() -> None:
    assert FieldPath.parse("address.country", V2).field_in(PERSON) is None
    assert FieldPath.parse("nope.city", V2).field_in(PERSON) is None
    assert FieldPath.parse("nope.city", V2).value_in_struct(person()) is None
    assert FieldPath.parse("other.city", V2).value_in_struct(person()) is None


def test_a_step_through_a_primitive_is_an_error() -> None:
    with pytest.raises(DataError, match="Cannot look up fields on non-struct type"):
        FieldPath.parse("age.x", V2).field_in(PERSON)


def test_backticked_name_and_default_replacement() -> None:
    path = FieldPath.parse("`a.b`", V2)
    assert path.value_in_struct(person()) == "dflt"
    assert path.value_in_struct(person(), replace_null_with_default=False) is None


def test_map_lookup() -> None:
    data = {"address": {"city": "Oslo"}, "age": 7, "none": None}
    assert FieldPath.parse("address.city", V2).value_in_map(data) == "Oslo"
    assert FieldPath.parse("address.country", V2).value_in_map(data) is None
    assert FieldPath.parse("none.x", V2).value_in_map(data) is None
    assert FieldPath.parse("address.city").value_in_map(data) is None  # V1: a top-level key
    with pytest.raises(
        DataError,
        match=r"Only Map objects supported in absence of schema for \[nested field access\], found: java.lang.Long",
    ):
        FieldPath.parse("age.x", V2).value_in_map(data)


class _Config(PluginConfig):
    field_syntax_version: SyntaxVersion = syntax_version_setting()


def test_syntax_version_setting_is_case_insensitive_with_kafkas_message() -> None:
    assert _Config.parse({}).field_syntax_version is FieldSyntaxVersion.V1
    assert _Config.parse({"field.syntax.version": " v2"}).field_syntax_version is FieldSyntaxVersion.V2
    assert _Config.errors_by_key({"field.syntax.version": "V3"}) == {
        "field.syntax.version": [
            "Invalid value V3 for configuration field.syntax.version: String must be one of (case insensitive): V1, V2"
        ]
    }
    (key,) = _Config.describe()
    assert (key.name, key.type, key.default_value) == ("field.syntax.version", "STRING", "V1")
