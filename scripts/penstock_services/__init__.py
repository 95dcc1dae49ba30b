"""Throw-away Kafka, PostgreSQL and Elasticsearch servers for Penstock's tests (stdlib only)."""
