"""Built-in config providers: ``env``, ``file`` and ``directory``, as in Kafka Connect.

Each also answers to Kafka's Java class name, so a worker.properties written for Kafka Connect
(``config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider``)
works unchanged.
"""
