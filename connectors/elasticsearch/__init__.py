"""Elasticsearch sink, compatible with Confluent's ``ElasticsearchSinkConnector``.

Answers to ``io.confluent.connect.elasticsearch.ElasticsearchSinkConnector`` and takes the
Confluent connector JSON as is (also the 10.x-era keys of older tutorials). Built on the SDK only.

Modules: ``config`` (every setting and Confluent's cross-key rules), ``naming`` (topic -> index or
data stream), ``documents`` (record -> bulk action: id, external version, JSON body), ``mapping``
(Connect schema -> index mapping), ``client`` (the ``AsyncElasticsearch`` client and the
connection check), ``bulk`` (buffer, concurrent bulk requests, ordered retries, committable
offsets), ``task`` and ``connector``. User documentation: ``docs/elasticsearch.md``.
"""
