"""Which columns a record writes, and the row of values it binds (reference §5.2).

A :class:`RecordShape` is worked out once per (key schema, value schema) pair and per table: the
key columns decided by ``pk.mode`` / ``pk.fields``, the non-key columns from the value (filtered by
``fields.whitelist``), in Confluent's column order (Kafka coordinates, then value fields in schema
order, then key-only fields sorted by name), and a function that turns a record into its row.

Schemaless records (a ``dict`` value and/or key, as JsonConverter gives without schemas) get a
shape from the dict's keys; their column types come from the existing table (see
``sink_schema``), or are inferred from the Python values when the table must be created or evolved.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from connectors.jdbc.sink_config import JdbcSinkConfig, PkMode
from connectors.sdk import ConfigError, DataError, Schema, SchemaType, SinkRecord, Struct, infer_schema

KAFKA_COLUMNS: Final = ("__connect_topic", "__connect_partition", "__connect_offset")
_KAFKA_SCHEMAS: Final = (Schema(SchemaType.STRING), Schema(SchemaType.INT32), Schema(SchemaType.INT64))


@dataclass(frozen=True, slots=True)
class Column:
    """One column a record writes; ``schema`` is None when nothing tells its type (schemaless null)."""

    name: str
    schema: Schema | None
    key: bool


@dataclass(frozen=True, slots=True)
class RecordShape:
    """The columns of one kind of record and how to read its row; key columns come first in ``row``."""

    columns: tuple[Column, ...]
    key_names: tuple[str, ...]
    value_names: tuple[str, ...]
    row: Callable[[SinkRecord], tuple[Any, ...]]
    """All columns' values, key columns first then non-key columns (statement order)."""
    key_row: Callable[[SinkRecord], tuple[Any, ...]]
    schemaless: bool

    @property
    def names(self) -> tuple[str, ...]:
        return self.key_names + self.value_names


def shape_of(record: SinkRecord, config: JdbcSinkConfig, table: str) -> RecordShape:
    """The shape of ``record`` (a tombstone gives a key-only shape); ``DataError`` names the
    problem and the table, so the errant-record reporter can say what was wrong."""
    mode = config.pk_mode
    value, value_schema = record.value, record.value_schema
    tombstone = value is None
    keys: list[Column] = []
    key_getters: list[Callable[[SinkRecord], Any]] = []

    if mode is PkMode.KAFKA:
        names = config.pk_fields or list(KAFKA_COLUMNS)
        keys = [Column(n, s, True) for n, s in zip(names, _KAFKA_SCHEMAS, strict=True)]
        key_getters = [lambda r: r.topic, lambda r: r.partition, lambda r: r.kafka_offset]
    elif mode is PkMode.RECORD_KEY:
        keys, key_getters = _key_columns(record, config, table)
    elif mode is PkMode.RECORD_VALUE:
        if tombstone:
            raise DataError(
                f"Table {table}: a record with a null value cannot be written with pk.mode=record_value"
            )
        fields = _value_fields(record, table)
        wanted = config.pk_fields or [name for name, _ in fields]
        known = dict(fields)
        missing = [n for n in wanted if n not in known]
        if missing:
            raise ConfigError(
                f"Table {table}: pk.fields {', '.join(missing)} not found in the record value (pk.mode=record_value)"
            )
        keys = [Column(n, known[n], True) for n in wanted]
        key_getters = [_value_getter(n) for n in wanted]
    elif not tombstone and value is not None:
        _value_fields(record, table)  # a value that is not a struct or map is refused

    key_names = tuple(c.name for c in keys)
    values: list[Column] = []
    if not tombstone:
        whitelist = set(config.fields_whitelist)
        for name, schema in _value_fields(record, table):
            if name in key_names or (whitelist and name not in whitelist):
                continue
            values.append(Column(name, schema, False))
    value_names = tuple(c.name for c in values)
    value_getters = [_value_getter(n) for n in value_names]

    # Confluent's order for DDL: Kafka columns, value fields in schema order, then key-only fields.
    value_order = [n for n, _ in _value_fields(record, table)] if not tombstone else []
    by_name = {c.name: c for c in (*keys, *values)}
    ordered: list[Column] = []
    if mode is PkMode.KAFKA:
        ordered.extend(keys)
    ordered.extend(by_name[n] for n in value_order if n in by_name and by_name[n] not in ordered)
    ordered.extend(sorted((c for c in keys if c not in ordered), key=lambda c: c.name))

    getters = (*key_getters, *value_getters)
    kg = tuple(key_getters)
    schemaless = (value is not None and value_schema is None) or (
        mode is PkMode.RECORD_KEY and record.key_schema is None
    )
    return RecordShape(
        columns=tuple(ordered),
        key_names=key_names,
        value_names=value_names,
        row=_row_reader(getters, mode, key_names, value_names, schemaless),
        key_row=lambda r: tuple(g(r) for g in kg),
        schemaless=schemaless,
    )


def _value_fields(record: SinkRecord, table: str) -> list[tuple[str, Schema | None]]:
    value, schema = record.value, record.value_schema
    if isinstance(value, Struct):
        return [(f.name, f.schema) for f in value.schema.fields]
    if schema is not None and schema.type is SchemaType.STRUCT:
        return [(f.name, f.schema) for f in schema.fields]
    if isinstance(value, dict) and schema is None:
        return [(str(k), _infer(v)) for k, v in value.items()]
    raise DataError(
        f"Table {table}: the record value must be a Struct (with a schema) or a JSON object, "
        f"not {type(value).__name__}"
    )


def _infer(value: Any) -> Schema | None:
    schema = infer_schema(value) if value is not None else None
    return schema.as_optional() if schema is not None else None


def _key_columns(
    record: SinkRecord, config: JdbcSinkConfig, table: str
) -> tuple[list[Column], list[Callable[[SinkRecord], Any]]]:
    key, schema = record.key, record.key_schema
    if key is None:
        raise DataError(f"Table {table}: pk.mode=record_key needs a record key, and this record has none")
    struct_like = isinstance(key, Struct | dict) or (schema is not None and schema.type is SchemaType.STRUCT)
    if not struct_like:
        if len(config.pk_fields) != 1:
            raise ConfigError(
                f"Table {table}: the record key is a primitive, so pk.fields must name exactly one column "
                f"(pk.mode=record_key), not {config.pk_fields or 'none'}"
            )
        key_schema = schema or _infer(key)
        return [Column(config.pk_fields[0], key_schema, True)], [lambda r: r.key]
    if isinstance(key, Struct):
        fields: dict[str, Schema | None] = {f.name: f.schema for f in key.schema.fields}
    else:
        fields = {str(k): _infer(v) for k, v in key.items()}
    wanted = config.pk_fields or list(fields)
    missing = [n for n in wanted if n not in fields]
    if missing:
        raise ConfigError(
            f"Table {table}: pk.fields {', '.join(missing)} not found in the record key (pk.mode=record_key)"
        )
    return [Column(n, fields[n], True) for n in wanted], [_key_getter(n) for n in wanted]


def _key_getter(name: str) -> Callable[[SinkRecord], Any]:
    def get(record: SinkRecord) -> Any:
        key = record.key
        return key.values.get(name) if isinstance(key, Struct) else key.get(name)

    return get


def _value_getter(name: str) -> Callable[[SinkRecord], Any]:
    def get(record: SinkRecord) -> Any:
        value = record.value
        return value.values.get(name) if isinstance(value, Struct) else value.get(name)

    return get


def _row_reader(
    getters: Sequence[Callable[[SinkRecord], Any]],
    mode: PkMode,
    key_names: tuple[str, ...],
    value_names: tuple[str, ...],
    schemaless: bool,
) -> Callable[[SinkRecord], tuple[Any, ...]]:
    """A row reader; the common shapes (key fields all in the value, or a struct key) read the
    dicts directly instead of calling one closure per column."""
    if mode is PkMode.RECORD_VALUE and not schemaless:
        names = key_names + value_names

        def from_value(record: SinkRecord) -> tuple[Any, ...]:
            get = record.value.values.get
            return tuple([get(n) for n in names])

        return from_value
    if mode is PkMode.RECORD_KEY and not schemaless and len(getters) == len(key_names) + len(value_names):
        kg = getters[: len(key_names)]

        def from_key_and_value(record: SinkRecord) -> tuple[Any, ...]:
            value = record.value
            if value is None:
                return tuple([g(record) for g in kg])
            get = value.values.get
            return (*[g(record) for g in kg], *[get(n) for n in value_names])

        return from_key_and_value
    gs = tuple(getters)
    return lambda record: tuple([g(record) for g in gs])
