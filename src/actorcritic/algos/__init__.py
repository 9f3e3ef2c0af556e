"""One file per algorithm: its Config dataclass and its update."""
