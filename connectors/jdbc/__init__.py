"""Confluent-compatible JDBC source and sink for PostgreSQL (asyncpg) and MySQL/MariaDB (asyncmy).

``url`` parses ``connection.url``; ``dialect`` hides the two drivers' differences (placeholders,
quoting, transactions, connection errors).
"""
