"""Errant-record handling (Kafka Connect's ``runtime/errors``): tolerance, error logging and the
dead-letter queue. Exception *classes* live in ``connectors.sdk.errors``; the HTTP mapping of
errors lives in ``app.api.errors``.
"""
