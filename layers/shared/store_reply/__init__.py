"""Store & Reply domain core: validate a message, detect its language, reply in it, store it.

Nothing in this package except ``adapters`` knows about AWS; nothing knows about Lambda events.
"""
