"""Cognito: the local pool's users and the ID tokens its authorizer verifies."""
