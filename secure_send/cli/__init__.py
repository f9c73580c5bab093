"""The ``secure-send`` command line."""
