"""Lambda: versions, aliases and weighted routing, invocations and their metrics, event source mappings."""
