"""API Gateway (REST): routes, authorizers, proxy and mock integrations, gateway responses."""
