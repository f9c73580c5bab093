"""Finding My Numbers on the sender's machine, before encryption (issue 19).

An end-to-end product cannot scan on the server, so the check runs where the
plaintext is. Results say which file, how many numbers and where — never the numbers:
nothing here returns, logs or hashes a number it found.
"""
