"""Plugin side of Penstock: the connector SDK (``connectors.sdk``) and the built-in plugins.

Everything here is written against ``connectors.sdk`` exactly as a third-party plugin would be,
and nothing here imports ``app`` (an import-linter contract enforces it).
"""
