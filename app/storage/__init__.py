"""State and the data bus: where records, configs, offsets and statuses live.

``base`` defines the small interfaces the runtime and herder use; ``sqlite`` is the embedded
backend (the default, one file, no Kafka). The data path only sees ``base``'s interfaces.
"""
