"""One module per group of Kafka Connect REST resources."""
