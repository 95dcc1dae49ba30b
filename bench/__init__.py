"""Side-by-side benchmarks: Penstock against Apache Kafka Connect on the same job, same services.

``python -m bench [scenario ...|all] [--runs N] [--quick]`` (see ``bench/__main__.py``). Unlike
``benchmarks/`` (Penstock alone, one figure per command), every case here runs a real Penstock
worker process and a real Kafka Connect JVM on identical worker and connector properties files,
interleaved, because the 2-core machine is shared and a single run says little.

Modules: ``scenarios`` (what is measured, data sets), ``runner`` (one timed run of one worker
process), ``kafka_io`` (topics: create, fill, count, delete), ``penstock`` and ``kafka_connect``
(how each system is started), ``report`` (JSON, Markdown, charts); for scenario 4, ``scenario4``
(its runs), ``pg_io`` and ``es_io`` (tables, slots, indices: create, feed, count, drop),
``plugins`` (Debezium's jars and Kafka's tools, fetched with Maven); ``ceilings`` (what the
services themselves take).
"""
