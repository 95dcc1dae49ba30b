"""FileStream source and sink, config-compatible with Kafka Connect's ``connect-file`` plugins."""
