"""Configuration parsed once, shared by the herder and the runtime: connector framework settings
(typed), topic creation rules, config providers (``${provider:path:key}`` placeholders) and the one
rule for which values are secret. Imports ``connectors.sdk``, ``app.settings`` and ``app.plugins`` only.
"""
