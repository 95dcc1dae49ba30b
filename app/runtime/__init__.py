"""Data plane: the worker, its supervisor and the source/sink task runners.

Nothing here speaks HTTP; the herder tells the worker what to run. Storage is reached only
through ``app.storage.base`` interfaces.
"""
