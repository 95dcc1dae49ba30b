"""What the ``$Key`` / ``$Value`` transforms share: which half of the record they work on, the
Struct-or-Map rule, and a small cache of derived schemas.

Kafka Connect writes each field transform once and derives ``$Key`` and ``$Value`` nested classes
that differ only in which schema and value they read and write; :class:`OperandTransformation`
is that split. Derived schemas are cached per input schema (Kafka keeps 16 in an LRU) because a
topic's records nearly always share one schema and rebuilding it per record is most of the cost.
"""

from __future__ import annotations

from abc import abstractmethod
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, time
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import AfterValidator

from connectors.sdk.config import CommaList
from connectors.sdk.data import Schema, Struct
from connectors.sdk.errors import DataError
from connectors.sdk.records import ConnectRecord, SinkRecord, SourceRecord
from connectors.sdk.schema_builder import SchemaBuilder
from connectors.sdk.transform import Transformation

R = TypeVar("R", bound=ConnectRecord)
D = TypeVar("D")

KAFKA_TRANSFORMS = "org.apache.kafka.connect.transforms."
"""Package of Kafka Connect's built-in transforms; their aliases start with it."""


def _non_empty(value: list[str]) -> list[str]:
    if not value:
        raise ValueError("Empty list")
    return value


NonEmptyList = Annotated[CommaList, AfterValidator(_non_empty)]
"""A LIST setting that must name something (Kafka's ``NonEmptyListValidator``: "Empty list")."""


class Side(StrEnum):
    KEY = "key"
    VALUE = "value"


class OperandTransformation(Transformation[R]):
    """A transform of the record's key or value (with its schema); subclasses set ``side``."""

    side: ClassVar[Side]

    def apply(self, record: R) -> R | None:
        if self.side is Side.KEY:
            return self.transform(record, record.key_schema, record.key)
        return self.transform(record, record.value_schema, record.value)

    @abstractmethod
    def transform(self, record: R, schema: Schema | None, value: Any) -> R | None:
        """The record with its operand (``schema``, ``value``) transformed, or None to drop it."""

    def updated(self, record: R, schema: Schema | None, value: Any) -> R:
        """``record`` with this side's schema and value replaced."""
        if self.side is Side.KEY:
            return record.new_record(key_schema=schema, key=value)
        return record.new_record(value_schema=schema, value=value)


def java_class_name(value: Any) -> str:
    """The Java class Kafka would name in a message about ``value`` (its messages quote them)."""
    if value is None:
        return "null"
    for kind, name in (
        (SourceRecord, "org.apache.kafka.connect.source.SourceRecord"),
        (SinkRecord, "org.apache.kafka.connect.sink.SinkRecord"),
        (bool, "java.lang.Boolean"),
        (int, "java.lang.Long"),
        (float, "java.lang.Double"),
        (str, "java.lang.String"),
        (bytes, "[B"),
        (date, "java.util.Date"),
        (time, "java.util.Date"),
        (Decimal, "java.math.BigDecimal"),
        (dict, "java.util.HashMap"),
        (list, "java.util.ArrayList"),
        (Struct, "org.apache.kafka.connect.data.Struct"),
    ):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def require_struct(value: Any, purpose: str) -> Struct:
    """Kafka's ``Requirements.requireStruct``: with a schema, the operand must be a Struct."""
    if not isinstance(value, Struct):
        raise DataError(f"Only Struct objects supported for [{purpose}], found: {java_class_name(value)}")
    return value


def require_map(value: Any, purpose: str) -> dict[Any, Any]:
    """Kafka's ``Requirements.requireMap``: without a schema, the operand must be a Map."""
    if not isinstance(value, dict):
        raise DataError(
            f"Only Map objects supported in absence of schema for [{purpose}], found: {java_class_name(value)}"
        )
    return value


def field_value(struct: Struct, name: str, replace_null_with_default: bool) -> Any:
    """A Struct field's value; a null becomes the field's schema default when asked (Kafka 3.9's
    ``replace.null.with.default``, on by default)."""
    value = struct.values.get(name)
    if value is None and replace_null_with_default:
        member = struct.schema.field(name)
        if member is not None:
            return member.schema.default
    return value


class DerivedCache(Generic[D]):
    """Values derived from a schema (a derived schema, a compiled plan), by input schema, least
    recently used dropped first.

    Keyed by identity: schemas hold dicts (parameters, defaults) and are not hashable, and records
    of one topic share the same schema object once a converter has cached it.
    """

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._entries: OrderedDict[int, tuple[Schema, D]] = OrderedDict()

    def get(self, schema: Schema, build: Callable[[Schema], D]) -> D:
        key = id(schema)
        entry = self._entries.get(key)
        if entry is not None and entry[0] is schema:
            self._entries.move_to_end(key)
            return entry[1]
        derived = build(schema)
        self._entries[key] = (schema, derived)  # keeps ``schema`` alive, so its id stays unique
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return derived


class SchemaCache(DerivedCache[Schema]):
    """Derived schemas by input schema (see :class:`DerivedCache`)."""


def struct_builder_like(schema: Schema) -> SchemaBuilder:
    """A struct builder with ``schema``'s name, version, doc and parameters but no fields (Kafka's
    ``SchemaUtil.copySchemaBasics``, which, like it, does not copy optionality)."""
    return copy_schema_basics(schema, SchemaBuilder.struct())


def copy_schema_basics(schema: Schema, builder: SchemaBuilder) -> SchemaBuilder:
    """``builder`` given ``schema``'s name, version, doc and parameters."""
    if schema.name is not None:
        builder.name(schema.name)
    if schema.version is not None:
        builder.version(schema.version)
    if schema.doc is not None:
        builder.doc(schema.doc)
    if schema.parameters:
        builder.parameters(schema.parameters)
    return builder
