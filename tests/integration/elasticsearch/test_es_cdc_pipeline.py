"""The tutorials' pipeline on a real embedded worker, configured with two REST calls as the seed
configs write them: Debezium's PostgreSQL source (JsonConverter without schemas, the
``ExtractNewRecordState`` unwrap keeping tombstones) -> the Elasticsearch sink (``type.name``,
``key.ignore=false``, ``schema.ignore=true``, deletes). After a mixed workload of inserts, updates
and deletes, the index holds exactly the table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.postgres.test_pg_e2e import sql
from tests.support.server import ServerProcess, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.elasticsearch, pytest.mark.postgres]

JSON = "org.apache.kafka.connect.json.JsonConverter"


def source_config(db: dict[str, str], prefix: str) -> dict[str, str]:
    return {
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "database.hostname": db["host"],
        "database.port": db["port"],
        "database.user": "postgres",
        "database.password": "postgres",
        "database.dbname": db["dbname"],
        "database.server.name": prefix,
        "table.include.list": f"{db['tag']}.customers",
        "slot.name": f"{db['tag']}_slot",
        "publication.name": f"{db['tag']}_pub",
        "publication.autocreate.mode": "filtered",
        "key.converter": JSON,
        "key.converter.schemas.enable": "false",
        "value.converter": JSON,
        "value.converter.schemas.enable": "false",
        "transforms": "unwrap",
        "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
        "transforms.unwrap.drop.tombstones": "false",
    }


def sink_config(topic: str, url: str) -> dict[str, str]:
    return {
        "connector.class": "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector",
        "tasks.max": "1",
        "topics": topic,
        "connection.url": url,
        "type.name": "_doc",
        "key.ignore": "false",
        "schema.ignore": "true",
        "behavior.on.null.values": "delete",
        "key.converter": JSON,
        "key.converter.schemas.enable": "false",
        "value.converter": JSON,
        "value.converter.schemas.enable": "false",
        "schema.enable": "false",
        "transforms": "key",
        "transforms.key.type": "org.apache.kafka.connect.transforms.ExtractField$Key",
        "transforms.key.field": "id",
    }


def index_docs(url: str, index: str) -> dict[str, dict[str, Any]]:
    with httpx.Client(base_url=url, timeout=10) as es:
        if es.head(f"/{index}").status_code != 200:
            return {}
        es.post(f"/{index}/_refresh")
        hits = es.post(f"/{index}/_search", json={"size": 1000, "query": {"match_all": {}}}).json()
    return {h["_id"]: h["_source"] for h in hits["hits"]["hits"]}


def table_rows(dsn: str, tag: str) -> dict[str, dict[str, Any]]:
    rows = sql(dsn, f"SELECT id, first_name, last_name, email FROM {tag}.customers")
    return {str(r["id"]): dict(r) for r in rows}


def test_cdc_to_elasticsearch_keeps_the_index_equal_to_the_table(
    tmp_path: Path,
    db: dict[str, str],
    elasticsearch_url: str,
) -> None:
    prefix = f"{db['tag']}srv"
    topic = f"{prefix}.{db['tag']}.customers"
    worker = ServerProcess(tmp_path / "data", {"offset.flush.interval.ms": "500"}).start()
    try:
        worker.create("inventory-source", source_config(db, prefix))
        worker.create("es-sink", sink_config(topic, elasticsearch_url))
        worker.wait_for_state("es-sink", tasks=1, timeout=60)
        wait_until(lambda: len(index_docs(elasticsearch_url, topic)) == 3, 60, 0.2, "the snapshot indexed")
        tag = db["tag"]
        sql(
            db["dsn"],
            f"""
            INSERT INTO {tag}.customers (first_name, last_name, email) VALUES ('Anne', 'Kretchmar', 'annek@noanswer.org');
            UPDATE {tag}.customers SET email = 'sally.t@example.com' WHERE first_name = 'Sally';
            DELETE FROM {tag}.customers WHERE first_name = 'George';
            INSERT INTO {tag}.customers (first_name, last_name, email) VALUES ('Temp', 'Row', 'temp@x.org');
            UPDATE {tag}.customers SET last_name = 'Walker-Jones' WHERE first_name = 'Edward';
            DELETE FROM {tag}.customers WHERE first_name = 'Temp';
            """,
        )
        expected = table_rows(db["dsn"], tag)
        wait_until(
            lambda: index_docs(elasticsearch_url, topic) == expected, 60, 0.3, "index equal to the table"
        )
        status = worker.client.get("/connectors/es-sink/status").json()
        assert status["tasks"][0]["state"] == "RUNNING"
    finally:
        worker.close()
        httpx.delete(f"{elasticsearch_url}/{topic}", timeout=10)
