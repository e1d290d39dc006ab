"""The catalog's domain: plain Python, standard library only, no I/O."""
