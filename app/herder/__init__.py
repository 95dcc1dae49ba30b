"""Control-plane logic: desired state of connectors, validation, restarts (Kafka's Herder).

The REST layer (``app.api``) talks only to the herder; the herder drives ``app.runtime``.
"""
