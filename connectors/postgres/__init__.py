"""PostgreSQL change data capture, compatible with Debezium's PostgreSQL connector."""
