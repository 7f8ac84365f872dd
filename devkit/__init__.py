"""Developer tooling for Store & Reply: reads and expands template.yaml for tests, lint and the local stack.

Never deployed.
"""
