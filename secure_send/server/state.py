"""What the routes share, reached through a FastAPI dependency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from fastapi import Request

from secure_send.admin.home import OrgHome
from secure_send.server.auth import Authenticator
from secure_send.server.config import ServerConfig
from secure_send.server.storage import BlobStore, MetadataStore


@dataclass
class ServerState:
    """Config, organisation home, stores and the authenticator of one app."""

    config: ServerConfig
    home: OrgHome
    meta: MetadataStore
    blobs: BlobStore
    auth: Authenticator


def server_state(request: Request) -> ServerState:
    """The shared state (a FastAPI dependency); set by ``create_app``."""
    return cast(ServerState, request.app.state.server)
