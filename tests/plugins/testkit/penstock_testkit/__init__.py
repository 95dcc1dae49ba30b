"""Test plugins, written against connectors.sdk exactly as a third party would."""
