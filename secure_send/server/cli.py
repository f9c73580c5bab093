"""``secure-send-server``: run the drop server for one organisation home with uvicorn."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn

from secure_send.core.errors import SecureSendError
from secure_send.server.app import create_app
from secure_send.server.config import ConfigError, load_config
from secure_send.server.http_protocol import uvicorn_options


def _listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError("use HOST:PORT, e.g. 127.0.0.1:8443")
    return host.strip("[]"), int(port)


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="secure-send-server", description="Secure Send drop server (see docs/server.md)"
    )
    parser.add_argument("--home", type=Path, required=True, help="organisation home folder")
    parser.add_argument("--listen", type=_listen, help="HOST:PORT (default 127.0.0.1:8443/8080)")
    parser.add_argument("--tls-cert", type=Path, help="TLS certificate chain (PEM)")
    parser.add_argument("--tls-key", type=Path, help="TLS private key (PEM)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run until interrupted; exit 1 with one line on stderr on a configuration error."""
    args = build_parser().parse_args(argv)
    host, port = args.listen if args.listen else (None, None)
    try:
        config = load_config(
            args.home.resolve(), host=host, port=port, tls_cert=args.tls_cert, tls_key=args.tls_key
        )
        app = create_app(config)
    except (ConfigError, SecureSendError) as err:
        print(f"secure-send-server: {err}", file=sys.stderr)
        return 1
    uvicorn.run(
        app,
        host=config.host,
        port=config.listen_port,
        ssl_certfile=str(config.tls_cert) if config.tls_cert else None,
        ssl_keyfile=str(config.tls_key) if config.tls_key else None,
        **uvicorn_options(config),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
