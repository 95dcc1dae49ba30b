"""Popular Kafka Connect connector classes (Java), so that a config copied from a Kafka Connect
tutorial gets "Penstock does not provide this yet" instead of a bare "class not found".

Only consulted when no installed plugin answers to the name: a Python plugin that declares one of
these names as an alias is used as usual.
"""

from __future__ import annotations

KNOWN_CONNECTORS: dict[str, str] = {
    # Confluent
    "io.confluent.connect.s3.S3SinkConnector": "Confluent Amazon S3 sink",
    "io.confluent.connect.s3.source.S3SourceConnector": "Confluent Amazon S3 source",
    "io.confluent.connect.gcs.GcsSinkConnector": "Confluent Google Cloud Storage sink",
    "io.confluent.connect.azure.blob.AzureBlobStorageSinkConnector": "Confluent Azure Blob Storage sink",
    "io.confluent.connect.hdfs.HdfsSinkConnector": "Confluent HDFS 2 sink",
    "io.confluent.connect.hdfs3.Hdfs3SinkConnector": "Confluent HDFS 3 sink",
    "io.confluent.connect.http.HttpSinkConnector": "Confluent HTTP sink",
    "io.confluent.connect.jms.JmsSourceConnector": "Confluent JMS source",
    "io.confluent.connect.activemq.ActiveMQSourceConnector": "Confluent ActiveMQ source",
    "io.confluent.connect.ibm.mq.IbmMQSourceConnector": "Confluent IBM MQ source",
    "io.confluent.connect.rabbitmq.RabbitMQSourceConnector": "Confluent RabbitMQ source",
    "io.confluent.connect.mqtt.MqttSourceConnector": "Confluent MQTT source",
    "io.confluent.connect.kinesis.KinesisSourceConnector": "Confluent Amazon Kinesis source",
    "io.confluent.connect.aws.dynamodb.DynamoDbSinkConnector": "Confluent Amazon DynamoDB sink",
    "io.confluent.connect.aws.redshift.RedshiftSinkConnector": "Confluent Amazon Redshift sink",
    "io.confluent.connect.aws.lambda.AwsLambdaSinkConnector": "Confluent AWS Lambda sink",
    "io.confluent.connect.replicator.ReplicatorSourceConnector": "Confluent Replicator",
    "io.confluent.connect.syslog.SyslogSourceConnector": "Confluent Syslog source",
    "io.confluent.connect.splunk.s2s.SplunkS2SSourceConnector": "Confluent Splunk S2S source",
    "io.confluent.kafka.connect.datagen.DatagenConnector": "Confluent Datagen source",
    "io.confluent.connect.sftp.SftpCsvSourceConnector": "Confluent SFTP CSV source",
    "io.confluent.connect.sftp.SftpSinkConnector": "Confluent SFTP sink",
    "io.confluent.connect.salesforce.SalesforceCdcSourceConnector": "Confluent Salesforce CDC source",
    "io.confluent.connect.servicenow.ServiceNowSourceConnector": "Confluent ServiceNow source",
    # Debezium
    "io.debezium.connector.mysql.MySqlConnector": "Debezium MySQL source",
    "io.debezium.connector.mariadb.MariaDbConnector": "Debezium MariaDB source",
    "io.debezium.connector.postgresql.PostgresConnector": "Debezium PostgreSQL source",
    "io.debezium.connector.mongodb.MongoDbConnector": "Debezium MongoDB source",
    "io.debezium.connector.sqlserver.SqlServerConnector": "Debezium SQL Server source",
    "io.debezium.connector.oracle.OracleConnector": "Debezium Oracle source",
    "io.debezium.connector.db2.Db2Connector": "Debezium Db2 source",
    "io.debezium.connector.informix.InformixConnector": "Debezium Informix source",
    "io.debezium.connector.vitess.VitessConnector": "Debezium Vitess source",
    "io.debezium.connector.spanner.SpannerConnector": "Debezium Spanner source",
    "io.debezium.connector.cassandra.Cassandra4Connector": "Debezium Cassandra source",
    "io.debezium.connector.mongodb.MongoDbSinkConnector": "Debezium MongoDB sink",
    # Apache Kafka (MirrorMaker 2)
    "org.apache.kafka.connect.mirror.MirrorSourceConnector": "MirrorMaker 2 source",
    "org.apache.kafka.connect.mirror.MirrorCheckpointConnector": "MirrorMaker 2 checkpoints",
    "org.apache.kafka.connect.mirror.MirrorHeartbeatConnector": "MirrorMaker 2 heartbeats",
    # Vendors and community
    "com.mongodb.kafka.connect.MongoSinkConnector": "MongoDB sink",
    "com.mongodb.kafka.connect.MongoSourceConnector": "MongoDB source",
    "com.snowflake.kafka.connector.SnowflakeSinkConnector": "Snowflake sink",
    "com.wepay.kafka.connect.bigquery.BigQuerySinkConnector": "Google BigQuery sink",
    "com.google.pubsub.kafka.sink.CloudPubSubSinkConnector": "Google Cloud Pub/Sub sink",
    "com.google.pubsub.kafka.source.CloudPubSubSourceConnector": "Google Cloud Pub/Sub source",
    "com.clickhouse.kafka.connect.ClickHouseSinkConnector": "ClickHouse sink",
    "com.datastax.oss.kafka.sink.CassandraSinkConnector": "DataStax Apache Cassandra sink",
    "com.splunk.kafka.connect.SplunkSinkConnector": "Splunk sink",
    "com.couchbase.connect.kafka.CouchbaseSinkConnector": "Couchbase sink",
    "com.couchbase.connect.kafka.CouchbaseSourceConnector": "Couchbase source",
    "streams.kafka.connect.sink.Neo4jSinkConnector": "Neo4j sink",
    "org.neo4j.connectors.kafka.sink.Neo4jConnector": "Neo4j sink",
    "com.redis.kafka.connect.RedisSinkConnector": "Redis sink",
    "com.redis.kafka.connect.RedisStreamSourceConnector": "Redis Streams source",
    "com.github.jcustenborder.kafka.connect.redis.RedisSinkConnector": "Redis sink (jcustenborder)",
    "com.github.jcustenborder.kafka.connect.spooldir.SpoolDirCsvSourceConnector": "Spool Dir CSV source",
    "com.github.jcustenborder.kafka.connect.spooldir.SpoolDirJsonSourceConnector": "Spool Dir JSON source",
    "com.github.jcustenborder.kafka.connect.spooldir.SpoolDirLineDelimitedSourceConnector": "Spool Dir line source",
    "io.aiven.connect.jdbc.JdbcSinkConnector": "Aiven JDBC sink",
    "io.aiven.connect.jdbc.JdbcSourceConnector": "Aiven JDBC source",
    "io.aiven.kafka.connect.s3.AivenKafkaConnectS3SinkConnector": "Aiven Amazon S3 sink",
    "io.aiven.kafka.connect.gcs.GcsSinkConnector": "Aiven Google Cloud Storage sink",
    "io.aiven.kafka.connect.opensearch.OpensearchSinkConnector": "Aiven OpenSearch sink",
    "io.aiven.kafka.connect.http.HttpSinkConnector": "Aiven HTTP sink",
    "io.lenses.streamreactor.connect.aws.s3.sink.S3SinkConnector": "Lenses Amazon S3 sink",
    "io.lenses.streamreactor.connect.aws.s3.source.S3SourceConnector": "Lenses Amazon S3 source",
    "io.tabular.iceberg.connect.IcebergSinkConnector": "Apache Iceberg sink (Tabular)",
    "org.apache.iceberg.connect.IcebergSinkConnector": "Apache Iceberg sink",
    "io.questdb.kafka.QuestDBSinkConnector": "QuestDB sink",
    "com.azure.cosmos.kafka.connect.CosmosSinkConnector": "Azure Cosmos DB sink",
    "com.azure.cosmos.kafka.connect.CosmosSourceConnector": "Azure Cosmos DB source",
    "io.confluent.influxdb.v2.sink.InfluxDB2SinkConnector": "InfluxDB 2 sink",
}


def _short_names() -> dict[str, str]:
    """``S3SinkConnector`` and ``S3Sink`` -> the first full class name with that simple name."""
    shorts: dict[str, str] = {}
    for full in KNOWN_CONNECTORS:
        simple = full.rsplit(".", 1)[-1]
        for short in (simple, simple.removesuffix("Connector")):
            shorts.setdefault(short, full)
    return shorts


_SHORT = _short_names()


def known_connector(name: str) -> tuple[str, str] | None:
    """(class name, what it is) of a popular Kafka Connect connector ``name`` refers to, if any."""
    full = name if name in KNOWN_CONNECTORS else None if "." in name else _SHORT.get(name)
    if full is None:
        return None
    return full, KNOWN_CONNECTORS[full]
