"""``virtui serve``: the same app in a browser, through textual-serve, for its user only.

Each browser session starts its own ``python -m virtui ...`` with the options given
after the serve options, as the user who ran ``serve`` (often root). So the server
admits nobody without the secret of this run:

- a random token per run, printed once as a URL (``/?token=…``, as Jupyter does); the
  first page load with it sets an HttpOnly, SameSite=Strict cookie, and every later
  request (the websocket included) must carry the cookie or the token, else 403;
- the websocket must come from the served origin (its ``Origin`` header must name the
  host and port the browser reached), so another web page open in the same browser
  cannot drive it; the ``Host`` header must be one this server answers to (no DNS
  rebinding);
- listening beyond loopback needs TLS (``--tls-cert``/``--tls-key``) or an explicit
  ``--insecure-no-tls``.
"""

from __future__ import annotations

import argparse
import hmac
import ipaddress
import secrets
import shlex
import socket
import ssl
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

COOKIE = "virtui_token"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, not {text}")
    return value


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
    parser.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    parser.add_argument("--public-url", default=None, help="URL the browser reaches the server at")
    parser.add_argument("--tls-cert", type=Path, default=None, help="TLS certificate (PEM)")
    parser.add_argument("--tls-key", type=Path, default=None, help="TLS private key (PEM)")
    parser.add_argument(
        "--insecure-no-tls",
        action="store_true",
        help="allow a non-loopback --host without TLS (the token then crosses the network "
        "in clear text)",
    )
    return parser


def served_command(app_args: Sequence[str]) -> str:
    """The shell command each browser session runs. textual-serve runs it with
    ``sh -c``; ``exec`` makes the app the server's own child (dash would keep a shell
    between them), so the app can tell when the server is gone."""
    return "exec " + shlex.join([sys.executable, "-m", "virtui", *app_args])


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


class Gate:
    """Who may come in: the token (query or cookie), the Host and the Origin checks.

    Kept apart from aiohttp so the rules read (and are tested) as plain code.
    """

    def __init__(self, token: str, public_url: str, listen_host: str, port: int) -> None:
        self.token = token
        self.public_url = public_url.rstrip("/")
        public = urlsplit(self.public_url)
        default_port = 443 if public.scheme == "https" else 80
        self.hosts = {
            f"{listen_host}:{port}",
            f"{public.hostname}:{public.port or default_port}",
        }
        if is_loopback(listen_host):
            self.hosts |= {f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"}

    def _host_ok(self, host_header: str, scheme: str) -> bool:
        host = host_header.lower()
        if ":" not in host.rsplit("]", 1)[-1]:
            host = f"{host}:{443 if scheme == 'https' else 80}"
        return host in self.hosts

    def has_token(self, query_token: str, cookie_token: str) -> bool:
        """True when either carries this run's token (compared in constant time)."""
        return any(
            candidate and hmac.compare_digest(candidate.encode(), self.token.encode())
            for candidate in (query_token, cookie_token)
        )

    def refusal(
        self,
        *,
        path: str,
        host_header: str,
        origin: str,
        query_token: str,
        cookie_token: str,
        scheme: str,
    ) -> str:
        """Why the request is refused ("" when it is let in)."""
        if not self._host_ok(host_header, scheme):
            return f"unknown Host {host_header!r}"
        if origin:
            seen = urlsplit(origin)
            default_port = 443 if seen.scheme == "https" else 80
            if f"{seen.hostname}:{seen.port or default_port}" not in self.hosts or (
                seen.scheme != scheme
            ):
                return f"foreign Origin {origin!r}"
        elif path == "/ws":
            return "a websocket without an Origin"
        if not self.has_token(query_token, cookie_token):
            return "no valid token (open the URL virtui serve printed)"
        return ""


def _middleware(gate: Gate, secure: bool) -> Any:
    from aiohttp import web

    @web.middleware
    async def guard(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        query_token = request.query.get("token", "")
        why = gate.refusal(
            path=request.path,
            host_header=request.headers.get("Host", ""),
            origin=request.headers.get("Origin", ""),
            query_token=query_token,
            cookie_token=request.cookies.get(COOKIE, ""),
            scheme=request.scheme,
        )
        if why:
            # No reason in the body beyond the word: it is for the user's terminal.
            print(f"virtui serve: refused {request.path}: {why}", file=sys.stderr, flush=True)
            raise web.HTTPForbidden(text="403: forbidden\n")
        response = await handler(request)
        if query_token and request.path == "/" and not response.prepared:
            response.set_cookie(
                COOKIE, gate.token, httponly=True, samesite="Strict", secure=secure, path="/"
            )
        return response

    return guard


def _server_class() -> type[Any]:
    from aiohttp import web
    from textual_serve.server import Server

    class GuardedServer(Server):
        """textual-serve's server behind the Gate, optionally over TLS."""

        def __init__(
            self, *args: Any, gate: Gate, ssl_context: ssl.SSLContext | None, **kwargs: Any
        ) -> None:
            super().__init__(*args, **kwargs)
            self.gate = gate
            self.ssl_context = ssl_context

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(_middleware(self.gate, self.ssl_context is not None))
            return app

        async def on_startup(self, app: web.Application) -> None:
            pass  # the URL is printed once the socket listens (see serve)

        def announce(self, *_args: object) -> None:
            """Print the URL with the token: aiohttp calls this once it listens."""
            print(
                f"virtui serve: open {self.public_url}/?token={self.gate.token}",
                flush=True,
            )
            print("virtui serve: Ctrl+C stops it", file=sys.stderr, flush=True)

        def serve(self, debug: bool = False) -> None:
            import asyncio
            import signal

            self.debug = debug
            self.initialize_logging()
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self.request_exit)
            web.run_app(
                self._make_app(),
                host=self.host,
                port=self.port,
                ssl_context=self.ssl_context,
                handle_signals=False,
                loop=loop,
                print=self.announce,
            )

    return GuardedServer


def _tls(args: argparse.Namespace) -> tuple[ssl.SSLContext | None, str]:
    """The TLS context asked for, or why it cannot be had."""
    if (args.tls_cert is None) != (args.tls_key is None):
        return None, "--tls-cert and --tls-key go together"
    if args.tls_cert is None:
        return None, ""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(args.tls_cert, args.tls_key)
    except (OSError, ssl.SSLError) as error:
        return None, f"cannot use the TLS certificate/key: {error}"
    return context, ""


def serve(argv: Sequence[str], check_app_args: Callable[[list[str]], object]) -> int:
    """Parse ``virtui serve`` options and run the web server until Ctrl+C.

    ``check_app_args`` parses the options meant for the served app (the caller's own
    parser): bad ones fail here, not in the browser.
    """
    args, app_args = build_serve_parser().parse_known_args(argv)
    check_app_args(app_args)
    context, problem = _tls(args)
    if not problem and not is_loopback(args.host) and context is None and not args.insecure_no_tls:
        problem = (
            f"--host {args.host} is reachable from other machines: give --tls-cert and "
            "--tls-key, or --insecure-no-tls to send the token in clear text"
        )
    problem = problem or cannot_listen(args.host, args.port)
    if problem:
        print(f"virtui serve: {problem}", file=sys.stderr)
        return 2
    scheme = "https" if context is not None else "http"
    host = f"[{args.host}]" if ":" in args.host else args.host
    public_url = (args.public_url or f"{scheme}://{host}:{args.port}").rstrip("/")
    gate = Gate(secrets.token_urlsafe(32), public_url, args.host, args.port)
    server = _server_class()(
        served_command(app_args),
        host=args.host,
        port=args.port,
        title="virtui",
        public_url=public_url,
        gate=gate,
        ssl_context=context,
    )
    try:
        server.serve()
    except OSError as error:  # taken between the check and the bind
        print(f"virtui serve: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0
