"""Embedded backend: one SQLite database (WAL mode) in the data directory holds the topic log,
consumer-group positions, connector configs and source offsets. All SQLite work runs on two
dedicated threads (one writer, one reader) so the event loop never blocks on disk.
"""
