"""The verified directory: entries, trust chain, append-only log, verification, search."""
