"""The AWS services the local stack emulates beside moto, one package per service: model and HTTP answers."""
