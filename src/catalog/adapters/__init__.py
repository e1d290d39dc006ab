"""Adapters: the ports implemented over real (or fake) infrastructure."""
