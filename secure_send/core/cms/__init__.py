"""CMS AuthEnvelopedData with AES-256-GCM and ECDH P-256 (the CRYPTREC suite's format)."""
