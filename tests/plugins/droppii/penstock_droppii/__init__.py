"""An example third-party transform: removes the fields named in ``drop.fields`` from the record
value, whether it is a Struct (with a schema) or a map (without one).

It is written against ``connectors.sdk`` only and registered through the ``penstock.transformation``
entry point of this package's own metadata (see ``pyproject.toml``), exactly as any package a user
``pip install``s into a worker (or its ``plugin.path``) would do.
"""

from __future__ import annotations

from typing import ClassVar

from connectors.sdk import (
    CommaList,
    ConnectRecord,
    DataError,
    PluginConfig,
    Schema,
    SchemaBuilder,
    Struct,
    Transformation,
    setting,
)


class DropPiiConfig(PluginConfig):
    drop_fields: CommaList = setting(doc="Fields to remove from the record value, comma-separated.")


class DropPii(Transformation[ConnectRecord]):
    config_model = DropPiiConfig
    aliases: ClassVar[tuple[str, ...]] = ("com.example.pii.DropPii",)

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, DropPiiConfig)
        self._drop = frozenset(config.drop_fields)
        # Records of a topic share one schema object: derive the smaller schema once per schema.
        self._schemas: dict[int, tuple[Schema, Schema]] = {}

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        value = record.value
        if value is None:  # tombstones pass
            return record
        if isinstance(value, dict):
            kept = {k: v for k, v in value.items() if k not in self._drop}
            return record.new_record(value=kept)
        if isinstance(value, Struct):
            schema = self._without_pii(value.schema)
            kept_values = {f.name: value.values.get(f.name) for f in schema.fields}
            return record.new_record(value=Struct(schema, kept_values), value_schema=schema)
        raise DataError(f"DropPii needs a Struct or a map value, found {type(value).__name__}")

    def _without_pii(self, schema: Schema) -> Schema:
        cached = self._schemas.get(id(schema))
        if cached is not None and cached[0] is schema:
            return cached[1]
        builder = SchemaBuilder.struct()
        if schema.name:
            builder.name(schema.name)
        if schema.optional:
            builder.optional()
        for member in schema.fields:
            if member.name not in self._drop:
                builder.field(member.name, member.schema)
        derived = builder.build()
        if len(self._schemas) >= 16:  # a few schemas per topic at most; stay bounded regardless
            self._schemas.clear()
        self._schemas[id(schema)] = (schema, derived)  # holds ``schema``, so its id stays unique
        return derived
