"""Kafka Connect's built-in single message transforms and predicates, written against the SDK.

Each transform answers to its Kafka Connect class name (``org.apache.kafka.connect.transforms.
InsertField$Value``) through its ``aliases``; transforms that work on the key or the value come
as a ``...Key`` / ``...Value`` pair of classes built on :class:`~connectors.transforms.operand.
OperandTransformation`. They are registered through the ``penstock.transformation`` and
``penstock.predicate`` entry points exactly as a third-party package would register its own.
"""
