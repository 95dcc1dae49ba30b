"""Configuration parsed once: connector framework settings, topic creation rules, client
overrides and config providers. Pure parsing: imports only ``connectors.sdk`` and settings."""
