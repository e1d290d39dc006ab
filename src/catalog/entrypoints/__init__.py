"""Entrypoints: the only layer that knows HTTP, Lambda and the command line."""
