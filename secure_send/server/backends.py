"""Which blob store a server uses (``[storage] kind``): its own folder, or an
S3-compatible bucket shared by several servers (:mod:`.s3_store`)."""

from __future__ import annotations

from secure_send.server.config import ServerConfig
from secure_send.server.storage import BlobStore, FolderBlobStore


def open_blob_store(config: ServerConfig) -> BlobStore:
    """The configured store; raises ``ConfigError`` if an S3 bucket cannot be reached."""
    if config.storage_kind == "s3":
        # imported here: boto3 costs start-up time every folder-backed server (and the
        # desktop app's embedded demo server) would pay for nothing
        from secure_send.server.s3_store import open_s3_store

        return open_s3_store(config)
    return FolderBlobStore(config.state_dir / "blobs")
