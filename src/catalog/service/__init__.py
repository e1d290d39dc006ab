"""Application layer: one function per use case, ports as Protocols."""
