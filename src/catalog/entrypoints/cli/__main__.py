from catalog.entrypoints.cli import app

app()
