"""One module per group of Kafka Connect REST resources."""

from app.api import paths  # noqa: F401  (registers the "segment" path convertor the routes use)
