"""PostgreSQL change data capture (Debezium-compatible), built on the connector SDK only."""
