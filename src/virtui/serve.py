"""``virtui serve``: the same app in a browser, through textual-serve.

Each browser session starts its own ``python -m virtui ...`` with the options given
after the serve options; by default the server listens on loopback only.
"""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import socket
import sys
from collections.abc import Sequence


def build_serve_parser() -> argparse.ArgumentParser:
    """Options of ``virtui serve`` (the rest are the app's own options)."""
    parser = argparse.ArgumentParser(
        prog="virtui serve",
        description="Run virtui in a browser (textual-serve). Options after these are "
        "passed to each served virtui, e.g.: virtui serve --port 8000 -c qemu:///system",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default loopback)"
    )
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--public-url", default=None, help="URL the browser reaches the server at")
    return parser


def served_command(app_args: Sequence[str]) -> str:
    """The shell command each browser session runs."""
    return shlex.join([sys.executable, "-m", "virtui", *app_args])


def is_loopback(host: str) -> bool:
    """True for addresses only this machine reaches."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cannot_listen(host: str, port: int) -> str:
    """Why the server could not listen on ``host:port`` ("" when it can)."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        return f"cannot resolve {host}: {error}"
    family, kind, protocol, _name, address = addresses[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            return f"cannot listen on {host}:{port}: {error.strerror or error}"
    return ""


def serve(argv: Sequence[str]) -> int:
    """Parse ``virtui serve`` options and run the web server until Ctrl+C."""
    from textual_serve.server import Server

    from virtui.cli import build_parser

    args, app_args = build_serve_parser().parse_known_args(argv)
    build_parser().parse_args(app_args)  # bad app options fail here, not in the browser
    problem = cannot_listen(args.host, args.port)
    if problem:
        print(f"virtui serve: {problem}", file=sys.stderr)
        return 2
    if not is_loopback(args.host):
        print(
            f"virtui serve: listening on {args.host}: anyone who reaches this port gets "
            "virtui with your libvirt access (there is no login)",
            file=sys.stderr,
        )
    server = Server(
        served_command(app_args),
        host=args.host,
        port=args.port,
        title="virtui",
        public_url=args.public_url,
    )
    try:
        server.serve()
    except OSError as error:  # taken between the check and the bind
        print(f"virtui serve: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0
