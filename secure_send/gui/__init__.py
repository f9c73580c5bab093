"""The desktop app (PySide6). A thin layer over :mod:`secure_send.client`: it shows and
asks; every decision about keys, trust and files is made by the client library."""
