"""``secure-send-server``: run the drop server over its own folder with uvicorn, read
its audit log (``secure-send-server --home DIR audit verify|export``), or inspect,
repair or set aside its state (``check``, ``repair``, ``quarantine``).

The folder is made by ``secure-send-admin --home ORG server-home --to DIR`` and
holds public material only: the server never sees a private directory key."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn

from secure_send.core.errors import SecureSendError
from secure_send.server import audit_commands, state_commands
from secure_send.server.app import create_app
from secure_send.server.config import ConfigError, config_home, load_config
from secure_send.server.fd_limit import raise_fd_limit
from secure_send.server.http_protocol import uvicorn_options


def _listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not (port.isascii() and port.isdigit()):
        raise argparse.ArgumentTypeError("use HOST:PORT, e.g. 127.0.0.1:8443")
    return host.strip("[]"), int(port)


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="secure-send-server", description="Secure Send drop server (see docs/server.md)"
    )
    place = parser.add_mutually_exclusive_group(required=True)
    place.add_argument("--home", type=Path, help="the server's folder (see server-home)")
    place.add_argument(
        "--config",
        type=Path,
        help='server.toml naming the folder as home = "/path" (an installed server: '
        "/etc/secure-send/server.toml)",
    )
    parser.add_argument("--listen", type=_listen, help="HOST:PORT (default 127.0.0.1:8443/8080)")
    parser.add_argument("--tls-cert", type=Path, help="TLS certificate chain (PEM)")
    parser.add_argument("--tls-key", type=Path, help="TLS private key (PEM)")
    parser.add_argument(
        "--json", action="store_true", help="machine-readable output (audit, check, …)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    audit_commands.add_parser(sub)
    state_commands.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run until interrupted; exit 1 with one line on stderr on a configuration error."""
    args = build_parser().parse_args(argv)
    if args.config is not None:
        try:
            args.home = config_home(args.config)
        except ConfigError as err:
            print(f"secure-send-server: {err}", file=sys.stderr)
            return 1
    if args.command == "audit":
        try:
            audit_commands.run(args.home, args, args.config)
        except (SecureSendError, OSError) as err:
            print(f"secure-send-server: error: {err}", file=sys.stderr)
            return 1
        return 0
    if args.command in state_commands.COMMANDS:
        try:
            return state_commands.run(args.home, args, args.config)
        except (SecureSendError, OSError) as err:
            print(f"secure-send-server: error: {err}", file=sys.stderr)
            return 1
    host, port = args.listen if args.listen else (None, None)
    # every connection holds a descriptor: the common soft limit of 1024 is too few
    raise_fd_limit()
    try:
        config = load_config(
            args.home.resolve(),
            args.config,
            host=host,
            port=port,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
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
