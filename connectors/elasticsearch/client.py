"""The ``AsyncElasticsearch`` client a task writes with, and the connection check of validation.

The client never calls ``GET /`` (some distributions and proxies lack it): the version comes from
the nodes API, and every response is still checked for the ``X-Elastic-Product`` header by the
client itself. Its own retries are off: the bulk writer retries, and says why in the task status.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError, AsyncElasticsearch, AuthenticationException, AuthorizationException

from connectors.elasticsearch.config import ElasticsearchSinkConfig

MIN_VERSION = (7, 0, 0)
MIN_DATA_STREAM_VERSION = (7, 9, 0)


def hosts(config: ElasticsearchSinkConfig) -> list[str]:
    """The URLs with a scheme (none means http; https for all if any is https, as Confluent)."""
    https = config.uses_tls
    out = []
    for url in config.connection_url:
        rest = url.split("://", 1)[1] if "://" in url else url
        out.append(f"{'https' if https else 'http'}://{rest}")
    return out


def ssl_context(config: ElasticsearchSinkConfig) -> ssl.SSLContext | None:
    """TLS from PEM files: the trust store (CA certificates) and the key store (client cert+key)."""
    if not config.uses_tls:
        return None
    context = ssl.create_default_context(cafile=config.elastic_https_ssl_truststore_location)
    if config.elastic_https_ssl_keystore_location:
        password = config.elastic_https_ssl_key_password
        context.load_cert_chain(
            config.elastic_https_ssl_keystore_location,
            password=password.get_secret_value() if password else None,
        )
    if not config.elastic_https_ssl_endpoint_identification_algorithm.strip():
        context.check_hostname = False
    return context


def make_client(config: ElasticsearchSinkConfig) -> AsyncElasticsearch:
    options: dict[str, Any] = {}
    if config.connection_username is not None and config.connection_password is not None:
        options["basic_auth"] = (config.connection_username, config.connection_password.get_secret_value())
    if config.connection_api_key is not None:
        options["api_key"] = config.connection_api_key.get_secret_value()
    context = ssl_context(config)
    if context is not None:
        options["ssl_context"] = context
    return AsyncElasticsearch(
        hosts(config),
        request_timeout=max(config.read_timeout_ms, config.connection_timeout_ms) / 1000,
        http_compress=config.connection_compression,
        connections_per_node=max(10, config.max_in_flight_requests + 2),
        max_retries=0,
        retry_on_timeout=False,
        retry_on_status=(),
        max_dead_node_backoff=5.0,  # an unreachable node is tried again soon after it is back
        **options,
    )


def describe_failure(exc: BaseException) -> str:
    """A short reason for the task status and logs ("connection refused", "HTTP 503 ..."),
    never the credentials or the request."""
    if isinstance(exc, ConnectionTimeout | asyncio.TimeoutError):
        return "timed out"
    if isinstance(exc, TransportConnectionError):
        text = f"{exc.message} {exc.__context__!r}"
        if "Connect call failed" in text or "refused" in text.lower():
            return "connection refused"
        if "Server disconnected" in text or "reset" in text.lower():
            return "connection closed by the server"
        return "cannot connect"
    if isinstance(exc, ApiError):
        return f"HTTP {exc.meta.status} {exc.message}"
    return type(exc).__name__


async def check_connection(config: ElasticsearchSinkConfig) -> dict[str, list[str]]:
    """Errors per key: unreachable, refused credentials, or a version the connector cannot use."""
    client = make_client(config)
    try:
        async with asyncio.timeout(10):
            nodes = await client.nodes.info(filter_path="nodes.*.version")
    except (AuthenticationException, AuthorizationException) as exc:
        key = "connection.api.key" if config.connection_api_key is not None else "connection.username"
        return {key: [f"Elasticsearch refused the credentials: HTTP {exc.meta.status}"]}
    except (TransportConnectionError, ApiError, TimeoutError) as exc:
        return {"connection.url": [f"Could not connect to Elasticsearch: {describe_failure(exc)}"]}
    finally:
        await client.close()
    versions = [_version(n.get("version", "")) for n in (nodes.body.get("nodes") or {}).values()]
    lowest = min(versions, default=MIN_VERSION)
    wanted = MIN_DATA_STREAM_VERSION if config.is_data_stream else MIN_VERSION
    if lowest < wanted:
        found = ".".join(map(str, lowest))
        needed = ".".join(map(str, wanted))
        what = "Data streams need" if config.is_data_stream else "The connector needs"
        return {"connection.url": [f"{what} Elasticsearch {needed} or later; found {found}."]}
    return {}


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("-")[0].split(".")[:3]:
        parts.append(int(piece) if piece.isdigit() else 0)
    return tuple(parts)
