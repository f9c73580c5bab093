"""Qt-free, network-free domain logic. Nothing here may import PySide6, requests or the server."""
