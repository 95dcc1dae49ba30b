r"""Field paths into Structs and Maps, with Kafka's ``field.syntax.version`` (KIP-821, Kafka 3.8+).

V1 (the default) names one top-level field, whatever characters it holds. V2 reads a dotted
path into nested structs or maps, e.g. address.city. A step that itself contains dots is wrapped
in backticks: `order.id`.value is the steps "order.id" and "value". A backtick that would close a
wrapped step too early is escaped with a backslash: `a\`.b`.c is the steps "a`.b" and "c".

The parsing follows Kafka's ``SingleFieldPath`` exactly, quirks included, because a path that
works on Kafka Connect must address the same field here: a backslash is only an escape right
before a backtick that is followed by a dot, a backtick inside a step that is not followed by a
dot is part of the name, and a trailing dot adds an empty last step.

Any transform with a field setting can reuse this: declare ``field_syntax_version:
SyntaxVersion = syntax_version_setting()`` in its config, parse its paths with
:meth:`FieldPath.parse` (report :class:`FieldPathError` on the key), then read with
:meth:`FieldPath.field_in` / :meth:`FieldPath.value_in_struct` / :meth:`FieldPath.value_in_map`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator

from connectors.sdk.config import Importance, java_trim, setting
from connectors.sdk.data import Field, Schema, SchemaType, Struct
from connectors.sdk.errors import DataError
from connectors.transforms.operand import field_value, java_class_name

NESTED_PURPOSE = "nested field access"

_BACKTICK = "`"
_DOT = "."
_BACKSLASH = "\\"


class FieldSyntaxVersion(StrEnum):
    """How a configured field name is read: one top-level name (V1) or a dotted path (V2)."""

    V1 = "V1"
    V2 = "V2"


def _syntax_version(value: Any) -> Any:
    """Kafka's ``CaseInsensitiveValidString``: ``v2`` is V2; anything else is refused in its words."""
    if isinstance(value, str):
        text = java_trim(value).upper()
        if text not in FieldSyntaxVersion.__members__:
            choices = ", ".join(FieldSyntaxVersion.__members__)
            raise ValueError(f"String must be one of (case insensitive): {choices}")
        return FieldSyntaxVersion(text)
    return value


SyntaxVersion = Annotated[FieldSyntaxVersion, BeforeValidator(_syntax_version)]
"""The type of a ``field.syntax.version`` setting."""


def syntax_version_setting() -> Any:
    """The ``field.syntax.version`` setting, documented as Kafka documents it."""
    return setting(
        FieldSyntaxVersion.V1,
        doc="Defines the version of the syntax to access fields. If set to V1, then the field paths are "
        "limited to access the elements at the root level of the struct or map. If set to V2, the syntax "
        "will support accessing nested elements. To access nested elements, dotted notation is used. If "
        "dots are already included in the field name, then backtick pairs can be used to wrap field names "
        'containing dots. E.g. to access the subfield baz from a field named "foo.bar" in a struct/map the '
        'following format can be used to access its elements: "`foo.bar`.baz".',
        importance=Importance.HIGH,
        recommended_values=tuple(FieldSyntaxVersion.__members__),
    )


class FieldPathError(ValueError):
    """A V2 path that cannot be parsed (an unclosed backtick), in Kafka's wording."""


class FieldPath:
    """A parsed path: one step for V1, one per dotted segment for V2. Immutable and cheap to
    walk; parse once at configure time, not per record."""

    __slots__ = ("_init", "_last", "steps", "text")

    def __init__(self, text: str, steps: tuple[str, ...]) -> None:
        self.text = text
        self.steps = steps
        self._init = steps[:-1]
        self._last = steps[-1]

    def __repr__(self) -> str:
        return f"FieldPath({self.text!r}, steps={self.steps!r})"

    @classmethod
    def parse(cls, text: str, version: FieldSyntaxVersion = FieldSyntaxVersion.V1) -> FieldPath:
        """The path ``text`` means under ``version``; a :class:`FieldPathError` if it cannot be read."""
        if version is FieldSyntaxVersion.V1:
            return cls(text, (text,))
        return cls(text, _v2_steps(text))

    def field_in(self, schema: Schema) -> Field | None:
        """The struct member at this path, or None when a step is missing.

        Looking a step up inside a schema that is not a struct is Kafka's DataException, not a
        miss: the path is wrong for the data, not merely absent from it.
        """
        current = schema
        for step in self._init:
            member = _member(current, step)
            if member is None:
                return None
            current = member.schema
        return _member(current, self._last)

    def value_in_struct(self, struct: Struct, replace_null_with_default: bool = True) -> Any:
        """The value at this path, None when a step is missing or null along the way.

        Each step reads like ``Struct.get``: a null field with a schema default gives the default
        unless ``replace_null_with_default`` is off (Kafka 3.9's ``replace.null.with.default``).
        """
        current = struct
        for step in self._init:
            if current.schema.field(step) is None:
                return None
            nested = field_value(current, step, replace_null_with_default)
            if nested is None:
                return None
            if not isinstance(nested, Struct):
                raise DataError(
                    f"Only Struct objects supported for [{NESTED_PURPOSE}], found: {java_class_name(nested)}"
                )
            current = nested
        if current.schema.field(self._last) is None:
            return None
        return field_value(current, self._last, replace_null_with_default)

    def value_in_map(self, mapping: Mapping[Any, Any]) -> Any:
        """The value at this path in schemaless data, None when a step is missing or null."""
        current = mapping
        for step in self._init:
            nested = current.get(step)
            if nested is None:
                return None
            if not isinstance(nested, Mapping):
                raise DataError(
                    f"Only Map objects supported in absence of schema for [{NESTED_PURPOSE}], "
                    f"found: {java_class_name(nested)}"
                )
            current = nested
        return current.get(self._last)


def _member(schema: Schema, name: str) -> Field | None:
    if schema.type is not SchemaType.STRUCT:
        raise DataError("Cannot look up fields on non-struct type")
    return schema.field(name)


def _v2_steps(path: str) -> tuple[str, ...]:
    """Kafka's ``SingleFieldPath.buildFieldPathV2``, step for step."""
    steps: list[str] = []
    idx = 0
    length = len(path)
    while idx < length:
        if path[idx] != _BACKTICK:
            dot = path.find(_DOT, idx)
            if dot < 0:
                steps.append(path[idx:])
                idx = length
            else:
                steps.append(path[idx:dot])
                idx = dot + 1
            continue
        opened_at = idx
        idx += 1
        start = idx
        name: list[str] = []
        while True:
            idx = path.find(_BACKTICK, idx)
            if idx < 0:
                raise _incomplete(path, opened_at)
            escaped = path[idx - 1] == _BACKSLASH
            if idx >= length - 1:  # the closing backtick ends the path
                if escaped:
                    raise _incomplete(path, opened_at)
                name.append(path[start:idx])
                steps.append("".join(name))
                idx += 1
                break
            if path[idx + 1] != _DOT:  # not a closing backtick: part of the name
                idx += 1
                continue
            if escaped:  # "\`." inside a wrapped step: a literal backtick, keep looking
                name.append(path[start : idx - 1])
                name.append(_BACKTICK)
                idx += 1
                start = idx
                continue
            name.append(path[start:idx])
            steps.append("".join(name))
            idx += 2  # past the backtick and the dot after it
            break
    if path.endswith(_DOT):
        steps.append("")
    if not steps:  # the empty path names the field "" (Kafka fails later on an empty step list)
        steps.append("")
    return tuple(steps)


def _incomplete(path: str, backtick_at: int) -> FieldPathError:
    return FieldPathError(
        f"Incomplete backtick pair in path: [{path}], consider adding a backslash before backtick at "
        f"position {backtick_at} to escape it"
    )
