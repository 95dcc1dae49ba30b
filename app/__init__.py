"""Penstock service: Kafka Connect's REST API and runtime as one asyncio process.

Package map (dependencies point downward only)::

    app.cli, app.main     composition root: settings -> storage -> worker -> herder -> HTTP
    app.api               control plane, HTTP edge (talks only to the herder)
    app.herder            control plane logic: desired state, validation, restarts, offsets
    app.runtime           data plane: worker, connector and task runners, pipeline
    app.errors            errant-record handling (tolerance, dead-letter queue)
    app.storage           embedded SQLite log and stores behind small interfaces
    app.plugins           plugin discovery through entry points, name aliases
    connectors.sdk        the plugin API (never imports app)
"""

__version__ = "0.1.0"
