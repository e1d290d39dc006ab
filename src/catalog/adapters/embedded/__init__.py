"""The embedded deployment: SQLite, a local asset folder and an in-process outbox relay."""
