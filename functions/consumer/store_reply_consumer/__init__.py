"""The Store & Reply queue consumer function."""
