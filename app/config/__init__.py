"""Connector configuration helpers shared by the herder and the runtime: config providers
(``${provider:path:key}`` placeholders) and the one rule for which values are secret.

Imports ``connectors.sdk`` and ``app.plugins`` only.
"""
