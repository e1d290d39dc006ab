"""In-memory adapters: the reference fake every backend is compared with in contract tests."""
