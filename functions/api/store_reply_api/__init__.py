"""The Store & Reply HTTP API function."""
