"""One module per group of Kafka Connect REST resources."""

from app.api import paths  # noqa: F401  ({name} parameters may hold a percent-encoded "/": see paths)
