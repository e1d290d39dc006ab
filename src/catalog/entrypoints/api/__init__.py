"""The HTTP API: `create_app(container)` in catalog.entrypoints.api.app builds it."""
