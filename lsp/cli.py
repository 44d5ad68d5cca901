"""`mpac-bridge lsp`: the language server (stdio by default, or --tcp HOST:PORT)."""

from __future__ import annotations

import argparse
import logging
import sys

from bridge.cliargs import add_log_level

HELP = (
    "Run the language server: other participants' intents, conflicts and commits on your files "
    "appear as diagnostics, with code actions to claim, release and acknowledge. Speaks LSP on stdio "
    "(or --tcp HOST:PORT); logs go to stderr."
)


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host or "127.0.0.1", int(port)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tcp",
        type=_host_port,
        default=None,
        metavar="HOST:PORT",
        help="listen for one editor on TCP instead of speaking on stdio",
    )
    parser.add_argument(
        "--stdio",
        action="store_true",
        help="speak on stdio (the default; accepted for editors that pass it)",
    )
    add_log_level(parser, "INFO", "how much to log on stderr (default INFO)")


def run(args: argparse.Namespace) -> int:
    from lsp.features import build_server
    from lsp.logs import install_logging

    server = build_server()
    install_logging(server, args.log_level)
    if args.tcp is not None:
        host, port = args.tcp
        server.start_tcp(host, port)
    else:
        server.start_io(sys.stdin.buffer, sys.stdout.buffer)
    logging.getLogger("mpac.lsp").info("language server stopped")
    return 0
