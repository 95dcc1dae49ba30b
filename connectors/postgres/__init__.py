"""PostgreSQL change data capture, compatible with Debezium's PostgreSQL connector.

Answers to ``io.debezium.connector.postgresql.PostgresConnector`` (and ``PostgresConnector``,
``Postgres``) and takes Debezium's connector JSON as is. Built on the SDK only.

Modules: ``config`` (every setting, Debezium's names and rules), ``filters`` (which tables and
columns are captured), ``checks`` (what ``/config/validate`` and create verify against the
server), ``connector`` (the connector class), ``pgoutput`` (the logical replication message
decoder), ``types`` (PostgreSQL text values to Connect schemas and values, for the stream and the
COPY-based snapshot alike), ``pgwire`` / ``replication`` / ``lsn`` (the streaming replication
protocol on asyncio: login, TLS, slots, the CopyBoth stream and its status updates),
``publication`` (the captured tables and ``publication.autocreate.mode``), ``snapshot`` (the
consistent COPY-based initial snapshot), ``events`` (Debezium's change events and offsets) and
``task`` (the source task: snapshot, streaming, resuming and confirming to the slot).

Setting up PostgreSQL
---------------------
The server needs ``wal_level = logical`` (``ALTER SYSTEM SET wal_level = logical;`` then a
restart; Amazon RDS/Aurora: ``rds.logical_replication = 1``; Cloud SQL:
``cloudsql.logical_decoding = on``) and a free replication slot (``max_replication_slots``; each
connector uses one, named by ``slot.name``). ``pgoutput`` is built into PostgreSQL 10 and later.

The connector's user (``database.user``) needs, without being a superuser::

    CREATE ROLE penstock WITH LOGIN REPLICATION PASSWORD '...';   -- REPLICATION: the slot and the stream
    GRANT SELECT ON ALL TABLES IN SCHEMA inventory TO penstock;   -- the snapshot reads the tables
    ALTER DEFAULT PRIVILEGES IN SCHEMA inventory GRANT SELECT ON TABLES TO penstock;  -- tables added later
    GRANT USAGE ON SCHEMA inventory TO penstock;

(On Amazon RDS, ``GRANT rds_replication TO penstock;`` instead of the ``REPLICATION`` attribute.)
``pg_hba.conf`` must let the user connect to the database from Penstock's host.

The publication (``publication.name``, default ``dbz_publication``) tells pgoutput which tables to
stream. What ``publication.autocreate.mode`` needs when it does not exist yet:

* ``all_tables`` (default): ``CREATE PUBLICATION ... FOR ALL TABLES``, which only a **superuser**
  may run. With a non-superuser, create it once as a superuser, or use ``filtered``.
* ``filtered``: ``CREATE PUBLICATION ... FOR TABLE <the captured tables>``: needs ``CREATE`` on the
  database (``GRANT CREATE ON DATABASE mydb TO penstock;``) and **ownership** of each captured
  table (PostgreSQL's rule for adding a table to a publication). When the filters change, the
  connector alters the publication, which needs ownership of the publication.
* ``no_tables``: an empty publication (``CREATE`` on the database); tables are added by hand.
* ``disabled``: the connector never creates or changes it: a DBA runs
  ``CREATE PUBLICATION dbz_publication FOR TABLE inventory.customers, ...;``. This is the mode
  for a least-privilege user: only ``REPLICATION`` and ``SELECT`` are needed then.

An existing publication is used as it is (``filtered`` updates its table list). ``/config/validate``
and connector creation check all of this against the server and say which grant is missing.
"""
