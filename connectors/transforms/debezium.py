"""Debezium's ``io.debezium.transforms.ExtractNewRecordState``: a change event's envelope
(``before``, ``after``, ``source``, ``op``, ...) flattened to the row state (reference §3).

Sinks (JDBC, Elasticsearch) want rows, not envelopes, so nearly every Debezium pipeline runs this
transform. Per record, in Debezium's order: ``add.headers`` copies envelope metadata to headers;
a tombstone is dropped or kept; a record that is not an envelope passes unchanged; a truncate
(``before`` and ``after`` both null) is dropped; a delete is handled by the delete mode; otherwise
the value becomes ``after``. Then ``route.by.field`` renames the topic and ``add.fields`` appends
metadata fields.

**Delete and tombstone handling.** ``delete.tombstone.handling.mode`` (Debezium 2.5+) wins when
set. When it is absent (or blank) the legacy pair ``drop.tombstones`` / ``delete.handling.mode`` is
honoured exactly, as Debezium 2.5-3.1 do. With no key at all Penstock therefore behaves like
Debezium 2.5-3.1 (deletes *and* tombstones dropped), not like 3.2+ (whose default is
``tombstone``): configs written for 1.x-3.1, the bulk of those in use, keep their meaning
(a JDBC sink without ``delete.enabled`` fails on the null values ``tombstone`` produces), and a
3.2+ user who wants deletes downstream sets the key (``tombstone`` or ``rewrite``).

**Schemaless envelopes.** Debezium passes records without a value schema through unchanged.
Penstock also recognises an envelope read with ``schemas.enable=false`` (a map with ``before``,
``after`` and a string ``op``) and flattens it the same way, with maps instead of Structs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Annotated, Any, ClassVar, Self

from pydantic import BeforeValidator, model_validator

from connectors.sdk.config import (
    CommaList,
    Importance,
    PluginConfig,
    SettingError,
    Width,
    parse_choice,
    setting,
)
from connectors.sdk.data import OPTIONAL_STRING_SCHEMA, STRING_SCHEMA, Schema, SchemaType, Struct
from connectors.sdk.errors import DataError
from connectors.sdk.records import ConnectRecord, Header
from connectors.sdk.transform import Transformation
from connectors.transforms.operand import DerivedCache, require_map, require_struct, struct_builder_like

log = logging.getLogger(__name__)

ENVELOPE_SUFFIX = ".Envelope"
DELETED_FIELD = "__deleted"
"""Added by the rewrite modes: an optional string ``"true"`` / ``"false"``, not a boolean."""
METADATA_PREFIX = "__"

_EXTRACTION = "field extraction"
_INSERTION = "field insertion"
_SOURCE_INSERTION = "source field insertion"


class DeleteTombstoneHandling(StrEnum):
    DROP = "drop"
    TOMBSTONE = "tombstone"
    REWRITE = "rewrite"
    REWRITE_WITH_TOMBSTONE = "rewrite-with-tombstone"
    DELETE_TO_TOMBSTONE = "delete-to-tombstone"


class DeleteHandling(StrEnum):
    """The legacy ``delete.handling.mode`` (Debezium ≤3.1)."""

    DROP = "drop"
    REWRITE = "rewrite"
    NONE = "none"


def _choice(kind: type[StrEnum], blank_is_unset: bool = False) -> BeforeValidator:
    """Debezium's enum settings: trimmed, case-insensitive, its wording when the value is not one."""
    allowed = [member.value for member in kind]

    def parse(value: Any) -> Any:
        if blank_is_unset and isinstance(value, str) and not value.strip():
            return None
        text = parse_choice(value, allowed, message="Value must be one of ")
        return kind(text) if isinstance(text, str) else text

    return BeforeValidator(parse)


class ExtractNewRecordStateConfig(PluginConfig):
    """Debezium's keys, documentation and defaults (``ExtractNewRecordStateConfigDefinition``)."""

    delete_tombstone_handling_mode: Annotated[
        DeleteTombstoneHandling | None, _choice(DeleteTombstoneHandling, blank_is_unset=True)
    ] = setting(
        None,
        doc=(
            "How to handle delete records. Options are: drop - Remove the delete event and tombstone "
            "from the stream. tombstone - For each delete event, leave only a tombstone in the stream. "
            "rewrite - Remove tombstone from the record, and add a `__deleted` field with the value "
            "`true`. rewrite-with-tombstone - Retain tombstone in record and add a `__deleted` field "
            "with the value `true`. delete-to-tombstone - Convert delete events to tombstone events "
            "and drop tombstone events. When unset, drop.tombstones and delete.handling.mode apply "
            "(Debezium 2.5-3.1 behaviour: deletes and tombstones are dropped)."
        ),
        importance=Importance.MEDIUM,
        width=Width.MEDIUM,
        display_name="Handle delete and tombstone records",
        recommended_values=tuple(m.value for m in DeleteTombstoneHandling),
    )
    drop_tombstones: bool = setting(
        True,
        doc=(
            "Debezium by default generates a tombstone record to enable Kafka compaction after a "
            "delete record was generated. This record is usually filtered out to avoid duplicates "
            "as a delete record is converted to a tombstone record, too. Deprecated: used only when "
            "delete.tombstone.handling.mode is not set."
        ),
        importance=Importance.LOW,
        width=Width.SHORT,
        display_name="Drop tombstones",
    )
    delete_handling_mode: Annotated[DeleteHandling, _choice(DeleteHandling)] = setting(
        DeleteHandling.DROP,
        doc=(
            "How to handle delete records. Options are: none - records are passed,drop - records are "
            "removed (the default),rewrite - __deleted field is added to records. Deprecated: used "
            "only when delete.tombstone.handling.mode is not set."
        ),
        importance=Importance.MEDIUM,
        width=Width.MEDIUM,
        display_name="Handle delete records",
        recommended_values=tuple(m.value for m in DeleteHandling),
    )
    route_by_field: str = setting(
        "",
        doc="The column which determines how the events will be routed, the value will replace the topic name.",
        importance=Importance.LOW,
        width=Width.LONG,
        display_name="Route by field name",
    )
    add_fields_prefix: str = setting(
        METADATA_PREFIX,
        doc="Adds this prefix to each field listed.",
        importance=Importance.LOW,
        width=Width.SHORT,
        display_name="Field prefix to be added to each field.",
    )
    add_fields: CommaList = setting(
        [],
        doc=(
            "Adds each field listed, prefixed with __ (or __<struct>_ if the struct is specified). "
            "Example: 'version,connector,source.ts_ms' would add __version, __connector and "
            "__source_ts_ms fields. Optionally one can also map new field name like "
            "version:VERSION,connector:CONNECTOR,source.ts_ms:EVENT_TIMESTAMP.Please note that the "
            "new field name is case-sensitive."
        ),
        importance=Importance.LOW,
        width=Width.LONG,
        display_name="Adds the specified field(s) to the message if they exist.",
    )
    add_headers_prefix: str = setting(
        METADATA_PREFIX,
        doc="Adds this prefix listed to each header.",
        importance=Importance.LOW,
        width=Width.SHORT,
        display_name="Header prefix to be added to each header.",
    )
    add_headers: CommaList = setting(
        [],
        doc=(
            "Adds each field listed to the header,  __ (or __<struct>_ if the struct is specified). "
            "Example: 'version,connector,source.ts_ms' would add __version, __connector and "
            "__source_ts_ms fields. Optionally one can also map new field name like "
            "version:VERSION,connector:CONNECTOR,source.ts_ms:EVENT_TIMESTAMP.Please note that the "
            "new field name is case-sensitive."
        ),
        importance=Importance.LOW,
        width=Width.LONG,
        display_name="Adds the specified fields to the header if they exist.",
    )
    replace_null_with_default: bool = setting(
        True,
        doc=(
            "When this option is enabled, null field values are replaced by source-defined defaults "
            "when rewriting the record."
        ),
        importance=Importance.LOW,
        width=Width.SHORT,
        display_name="replace null field value with default",
    )

    @model_validator(mode="after")
    def _field_references_parse(self) -> Self:
        for key, entries in (("add.fields", self.add_fields), ("add.headers", self.add_headers)):
            for entry in entries:
                try:
                    FieldReference.parse("", entry)
                except ValueError as exc:
                    raise SettingError(key, str(exc)) from None
        return self


def _java_split(text: str, separator: str) -> list[str]:
    """``String.split``: trailing empty strings are removed."""
    parts = text.split(separator)
    while len(parts) > 1 and not parts[-1]:
        parts.pop()
    return parts


_HOME_OF = {
    "id": "transaction",
    "total_order": "transaction",
    "data_collection_order": "transaction",
    "op": None,
    "ts_ms": None,
    "ts_us": None,
    "ts_ns": None,
    "updateDescription": "updateDescription",  # MongoDB
}


@dataclass(frozen=True, slots=True)
class FieldReference:
    """One ``add.fields`` / ``add.headers`` entry: ``field``, ``struct.field``, either ``:newName``."""

    struct: str | None
    """The envelope member holding the field (``source``, ``transaction``); None for top level."""
    field: str
    name: str
    """The added field's or header's name, prefix included."""

    @classmethod
    def parse(cls, prefix: str, entry: str) -> FieldReference:
        parts = _java_split(entry, ":")
        if len(parts) > 2:
            raise ValueError("Unexpected field name: " + entry)
        path = _java_split(parts[0], ".")
        if len(path) == 1:
            field, struct = path[0], _HOME_OF.get(path[0], "source")
            default = field
        else:
            struct, field = path[0], path[1]
            default = f"{struct}_{field}"
        return cls(struct, field, prefix + (parts[1] if len(parts) == 2 else default))


@dataclass(frozen=True, slots=True)
class _Bound:
    """A field reference resolved against one envelope schema: where to read it and its schema."""

    name: str
    schema: Schema
    struct: str | None
    field: str
    in_parent: bool
    """False when the field is not in ``struct`` but at the envelope's top level (put there by
    another transform): Debezium then reads it from the top level."""

    def read(self, envelope: Struct) -> Any:
        """The raw value (schema defaults are not applied, as Debezium's ``getWithoutDefault``)."""
        if self.struct is None:
            return envelope.values.get(self.field)
        parent = envelope.values.get(self.struct)
        if parent is None:
            return None
        return (parent.values if self.in_parent else envelope.values).get(self.field)

    @classmethod
    def bind(cls, ref: FieldReference, envelope: Schema) -> _Bound | None:
        """None when the envelope has no such field (Debezium skips those entries)."""
        parent = envelope
        if ref.struct is not None:
            holder = envelope.field(ref.struct)
            if holder is None:
                return None
            parent = holder.schema
        member = parent.field(ref.field)
        in_parent = member is not None
        if member is None:
            member = envelope.field(ref.field)
            if member is None:
                return None
        # SchemaUtil.copySchemaBasics(...).optional(): name, version, doc, parameters; no default.
        return cls(ref.name, _optional_copy(member.schema), ref.struct, ref.field, in_parent)


def _optional_copy(schema: Schema) -> Schema:
    return Schema(
        schema.type,
        optional=True,
        name=schema.name,
        version=schema.version,
        doc=schema.doc,
        parameters=schema.parameters,
        fields=schema.fields,
        key_schema=schema.key_schema,
        value_schema=schema.value_schema,
    )


@dataclass(frozen=True, slots=True)
class _Plan:
    """Everything derived from one envelope schema, built once and cached."""

    after_schema: Schema
    """The ``after`` member's schema (the ``<prefix>.<schema>.<table>.Value`` row schema)."""
    upsert_schema: Schema
    """The value schema of a flattened create/update/read; ``after_schema`` itself when nothing
    is added, so the row Struct passes through without a copy."""
    delete_schema: Schema | None
    """The value schema of a rewritten delete (rewrite modes only)."""
    after_defaults: tuple[tuple[str, Any], ...]
    before_defaults: tuple[tuple[str, Any], ...]
    fields: tuple[_Bound, ...]
    headers: tuple[_Bound, ...]


class _OnDelete(Enum):
    DROP = "drop"
    NULL_VALUE = "null value, row schema kept"
    REWRITE = "rewrite"
    TOMBSTONE = "true tombstone"


_NEW_MODES = {
    DeleteTombstoneHandling.DROP: (_OnDelete.DROP, False),
    DeleteTombstoneHandling.TOMBSTONE: (_OnDelete.NULL_VALUE, False),
    DeleteTombstoneHandling.REWRITE: (_OnDelete.REWRITE, False),
    DeleteTombstoneHandling.REWRITE_WITH_TOMBSTONE: (_OnDelete.REWRITE, True),
    DeleteTombstoneHandling.DELETE_TO_TOMBSTONE: (_OnDelete.TOMBSTONE, False),
}
_LEGACY_MODES = {
    DeleteHandling.DROP: _OnDelete.DROP,
    DeleteHandling.NONE: _OnDelete.NULL_VALUE,
    DeleteHandling.REWRITE: _OnDelete.REWRITE,
}


class ExtractNewRecordState(Transformation[ConnectRecord]):
    config_model = ExtractNewRecordStateConfig
    aliases: ClassVar[tuple[str, ...]] = ("io.debezium.transforms.ExtractNewRecordState",)

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, ExtractNewRecordStateConfig)
        if config.delete_tombstone_handling_mode is not None:
            self._on_delete, self._keep_tombstones = _NEW_MODES[config.delete_tombstone_handling_mode]
        else:
            self._on_delete = _LEGACY_MODES[config.delete_handling_mode]
            self._keep_tombstones = not config.drop_tombstones
            log.debug(
                'delete.tombstone.handling.mode is not set: "drop.tombstones" and '
                '"delete.handling.mode" apply (deprecated by Debezium in favour of it)'
            )
        self._rewrite = self._on_delete is _OnDelete.REWRITE
        self._fields = tuple(
            FieldReference.parse(config.add_fields_prefix, e) for e in config.add_fields if e
        )
        self._headers = tuple(
            FieldReference.parse(config.add_headers_prefix, e) for e in config.add_headers if e
        )
        # A tombstone can only say which operation it stands for: "d".
        self._tombstone_headers = tuple(
            Header(h.name, "d", STRING_SCHEMA) for h in self._headers if h.field == "op"
        )
        self._route_by = config.route_by_field or None
        self._replace_null = config.replace_null_with_default
        self._plans: DerivedCache[_Plan] = DerivedCache(64)

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        value = record.value
        if value is None:
            if not self._keep_tombstones:
                return None
            if self._tombstone_headers:
                return record.new_record(headers=(*record.headers, *self._tombstone_headers))
            return record
        schema = record.value_schema
        if schema is not None:
            if schema.name is None or not schema.name.endswith(ENVELOPE_SUFFIX):
                return record
            return self._flatten(
                record, self._plans.get(schema, self._plan), require_struct(value, _EXTRACTION)
            )
        if (
            isinstance(value, dict)
            and "before" in value
            and "after" in value
            and isinstance(value.get("op"), str)
        ):
            return self._flatten_map(record, value)
        return record

    # -- with a schema ------------------------------------------------------------------------
    def _flatten(self, record: ConnectRecord, plan: _Plan, envelope: Struct) -> ConnectRecord | None:
        headers = record.headers
        if plan.headers:
            headers = (*headers, *(Header(h.name, h.read(envelope), h.schema) for h in plan.headers))
        after = envelope.values.get("after")
        if after is not None:
            topic = self._routed(record.topic, after)
            if plan.upsert_schema is plan.after_schema:
                return record.new_record(
                    topic=topic, value=after, value_schema=plan.after_schema, headers=headers
                )
            row = require_struct(after, _INSERTION if self._rewrite else _SOURCE_INSERTION)
            out = self._row(plan.upsert_schema, row, plan.after_defaults, "false", envelope, plan.fields)
            return record.new_record(topic=topic, value=out, value_schema=plan.upsert_schema, headers=headers)
        before = envelope.values.get("before")
        if before is None or self._on_delete is _OnDelete.DROP:  # a truncate, or deletes dropped
            return None
        topic = self._routed(record.topic, before)
        if self._on_delete is _OnDelete.NULL_VALUE:
            return record.new_record(topic=topic, value=None, value_schema=plan.after_schema, headers=headers)
        if self._on_delete is _OnDelete.TOMBSTONE:
            return record.new_record(topic=topic, value=None, value_schema=None, headers=headers)
        assert plan.delete_schema is not None
        row = require_struct(before, _INSERTION)
        out = self._row(plan.delete_schema, row, plan.before_defaults, "true", envelope, plan.fields)
        return record.new_record(topic=topic, value=out, value_schema=plan.delete_schema, headers=headers)

    def _row(
        self,
        schema: Schema,
        row: Struct,
        defaults: tuple[tuple[str, Any], ...],
        deleted: str,
        envelope: Struct,
        fields: tuple[_Bound, ...],
    ) -> Struct:
        values = dict(row.values)
        if self._rewrite:
            # The rewrite goes through Kafka's InsertField, which applies replace.null.with.default.
            if self._replace_null:
                for name, default in defaults:
                    if values.get(name) is None:
                        values[name] = default
            values[DELETED_FIELD] = deleted
        for bound in fields:
            values[bound.name] = bound.read(envelope)
        return Struct(schema, values)

    def _routed(self, topic: str, row: Any) -> str:
        """``route.by.field``: the row's string field names the topic; null or blank keeps it."""
        if self._route_by is None:
            return topic
        if isinstance(row, Struct):
            member = row.schema.field(self._route_by)
            if member is None:
                raise DataError(f"{self._route_by} is not a valid field name")
            if member.schema.type is not SchemaType.STRING:
                raise DataError(f"Field '{self._route_by}' is not of type STRING")
            name = row.values.get(self._route_by)
        else:
            name = require_map(row, _EXTRACTION).get(self._route_by)
            if name is not None and not isinstance(name, str):
                raise DataError(f"Field '{self._route_by}' is not of type STRING")
        return name if name is not None and name.strip() else topic

    def _plan(self, envelope: Schema) -> _Plan:
        after, before = envelope.field("after"), envelope.field("before")
        if after is None or before is None:
            raise DataError("Unknown field: " + ("after" if after is None else "before"))
        fields = tuple(b for b in (_Bound.bind(r, envelope) for r in self._fields) if b is not None)
        headers = tuple(b for b in (_Bound.bind(r, envelope) for r in self._headers) if b is not None)
        upsert = after.schema
        if self._rewrite or fields:
            upsert = self._widened(after.schema, fields)
        return _Plan(
            after_schema=after.schema,
            upsert_schema=upsert,
            delete_schema=self._widened(before.schema, fields) if self._rewrite else None,
            after_defaults=_defaults(after.schema),
            before_defaults=_defaults(before.schema),
            fields=fields,
            headers=headers,
        )

    def _widened(self, row: Schema, fields: tuple[_Bound, ...]) -> Schema:
        """The row schema with ``__deleted`` (rewrite modes) and the added fields, in that order."""
        if row.type is not SchemaType.STRUCT:
            raise DataError(f"Only Struct objects supported for [{_SOURCE_INSERTION}], found: {row.type}")
        builder = struct_builder_like(row)
        for member in row.fields:
            builder.field(member.name, member.schema)
        if self._rewrite:
            builder.field(DELETED_FIELD, OPTIONAL_STRING_SCHEMA)
        for bound in fields:
            builder.field(bound.name, bound.schema)
        return builder.build()

    # -- without a schema ---------------------------------------------------------------------
    def _flatten_map(self, record: ConnectRecord, envelope: dict[str, Any]) -> ConnectRecord | None:
        headers = record.headers
        if self._headers:
            added = []
            for ref in self._headers:
                found, value = _read_map(ref, envelope)
                if found:
                    added.append(Header(ref.name, value, None))
            headers = (*headers, *added)
        after = envelope.get("after")
        if after is not None:
            topic = self._routed(record.topic, after)
            if not self._rewrite and not self._fields:
                return record.new_record(topic=topic, value=after, value_schema=None, headers=headers)
            row = require_map(after, _INSERTION if self._rewrite else _SOURCE_INSERTION)
            out = self._map_row(row, "false", envelope)
            return record.new_record(topic=topic, value=out, value_schema=None, headers=headers)
        before = envelope.get("before")
        if before is None or self._on_delete is _OnDelete.DROP:
            return None
        topic = self._routed(record.topic, before)
        if self._on_delete is not _OnDelete.REWRITE:  # without a schema, both are a true tombstone
            return record.new_record(topic=topic, value=None, value_schema=None, headers=headers)
        out = self._map_row(require_map(before, _INSERTION), "true", envelope)
        return record.new_record(topic=topic, value=out, value_schema=None, headers=headers)

    def _map_row(self, row: dict[str, Any], deleted: str, envelope: dict[str, Any]) -> dict[str, Any]:
        out = dict(row)
        if self._rewrite:
            out[DELETED_FIELD] = deleted
        for ref in self._fields:
            found, value = _read_map(ref, envelope)
            if found:
                out[ref.name] = value
        return out


def _read_map(ref: FieldReference, envelope: dict[str, Any]) -> tuple[bool, Any]:
    """Whether a schemaless envelope has the referenced field, and its value; the same lookup as
    with a schema (in ``struct``, else at the top level), a null ``struct`` giving null."""
    if ref.struct is not None:
        if ref.struct not in envelope:
            return False, None
        parent = envelope[ref.struct]
        if parent is None:
            return True, None
        if isinstance(parent, dict) and ref.field in parent:
            return True, parent[ref.field]
    if ref.field in envelope:
        return True, envelope[ref.field]
    return False, None


def _defaults(row: Schema) -> tuple[tuple[str, Any], ...]:
    """The row fields that have a schema default (what replace.null.with.default can fill)."""
    return tuple((f.name, f.schema.default) for f in row.fields if f.schema.default is not None)
