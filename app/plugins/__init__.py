"""Plugin discovery: entry points, Kafka Connect class-name aliases and short names."""
