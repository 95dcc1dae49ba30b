"""Control plane, HTTP edge: Kafka Connect's REST API on FastAPI. Talks only to the herder."""
