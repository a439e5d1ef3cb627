"""``virtui desk``: a team's review desk as a service.

``virtui desk serve --config FILE`` runs as the desk's own account: it owns the store,
the history and the rules (FILE), reaches the hosts with its own libvirt access, and
listens on a Unix socket. Each caller is the account the kernel names (SO_PEERCRED, read
on this side: a caller's own user namespace cannot make it root); members of the group
may use the desk, nobody else.

``virtui desk relay SOCKET`` joins standard input and output to the socket: what ssh runs
on the desk's machine for a member elsewhere (the service sees that member's account).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import pwd
import signal
import socket
import socketserver
import struct
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from virtui.config.deskfile import DeskConfig, load_desk_config, private_folder
from virtui.config.hostsfile import ConfigError
from virtui.monitor.hostports import HostPorts
from virtui.monitor.session import HostSession
from virtui.monitor.sessions import open_sessions
from virtui.monitor.store import DomainStore
from virtui.review.core import ReviewError, ReviewRules
from virtui.review.history import ConfigHistory, HistoryError
from virtui.review.service import DeskService, Refusal
from virtui.review.store import ReviewStore, StoreError
from virtui.review.wire import MAX_LINE, WireError, decode, encode
from virtui.text import error_text, visible

log = logging.getLogger("virtui.desk")

_CREDENTIALS = struct.Struct("3i")  # struct ucred: pid, uid, gid
REFUSAL_READ_S = 5.0  # how long a refused caller's first request is waited for


def peer_account(connection: socket.socket) -> tuple[int, str]:
    """The caller's uid and account name, as the kernel gives them to this side."""
    raw = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CREDENTIALS.size)
    _pid, uid, _gid = _CREDENTIALS.unpack(raw)
    try:
        return uid, pwd.getpwuid(uid).pw_name
    except KeyError:
        return uid, ""


def is_member(account: str, gid: int) -> bool:
    """True when the account is in the group (as its primary group or a member)."""
    try:
        entry = pwd.getpwnam(account)
    except KeyError:
        return False
    return gid in os.getgrouplist(account, entry.pw_gid)


class Hosts:
    """The service's own connections, one per configured host, made when first needed
    and again when lost."""

    def __init__(self, config: DeskConfig) -> None:
        uris = [entry.uri for entry in config.hosts]
        names = {entry.uri: entry.name for entry in config.hosts if entry.name}
        self.sessions: list[HostSession] = open_sessions(uris, names=names)
        self.ports = HostPorts(lambda: self.sessions, DomainStore())
        self._lock = threading.Lock()
        self._up: set[str] = set()

    @property
    def names(self) -> tuple[str, ...]:
        """The hosts, by the names members use."""
        return tuple(session.name for session in self.sessions)

    def ready(self, host: str) -> None:
        """Connect ``host`` when it is not (raises with a readable message)."""
        session = next((s for s in self.sessions if s.name == host), None)
        if session is None:
            known = ", ".join(self.names) or "none"
            raise ReviewError(f"the desk reaches no host {host!r} (its hosts: {known})")
        with self._lock:
            if host in self._up and session.backend.connected():
                return
            session.backend.connect()
            self._up.add(host)

    def close(self) -> None:
        """Close every connection."""
        for session in self.sessions:
            session.close()


def _answer(service: DeskService, caller: str, line: bytes) -> dict[str, Any]:
    try:
        request = decode(line)
        return {"ok": service.handle(caller, request)}
    except (ReviewError, Refusal, WireError) as error:
        return {"refused": str(error)}
    except StoreError as error:
        return {"refused": f"the desk's store: {error}"}
    except Exception as error:  # a host's failure: one line to the caller, logged here
        log.warning("%s: %s", caller, error_text(error))
        return {"error": error_text(error)}


def make_handler(service: DeskService, gid: int, group: str, machine: str) -> type:
    """The per-connection handler: who is calling, may they, then their requests."""

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            uid, account = peer_account(self.request)
            if not account or not is_member(account, gid):
                who = account or f"uid {uid}"
                log.warning("refused %s: not a member of %s", who, group)
                # The refusal answers the first request: closed before it was read, the
                # caller's write would fail (a broken pipe) instead of being told why.
                self.request.settimeout(REFUSAL_READ_S)
                with contextlib.suppress(OSError):
                    self.rfile.readline(MAX_LINE + 1)
                self.wfile.write(
                    encode({"refused": f"{who} is not a member of {group}: the desk refuses"})
                )
                return
            caller = f"{account}@{machine}"
            while line := self.rfile.readline(MAX_LINE + 1):
                self.wfile.write(encode(_answer(service, caller, line)))
                self.wfile.flush()

    return Handler


class DeskServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """One thread per member's connection."""

    daemon_threads = True


def _listen(path: Path, handler: type) -> DeskServer:
    if path.is_socket():
        path.unlink()  # a socket a previous run left: nothing listens there
    path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    server = DeskServer(str(path), handler)
    os.chmod(path, 0o666)  # who may use the desk is decided by the caller's credentials
    return server


class DeskStartError(Exception):
    """The service cannot start; the message says why (one line)."""


@dataclass
class RunningDesk:
    """A started service: its socket server (not yet serving), and what it holds."""

    config: DeskConfig
    server: DeskServer
    service: DeskService
    hosts: Hosts

    def close(self) -> None:
        """Stop listening, remove the socket, close the connections and the store."""
        self.server.server_close()
        self.config.socket.unlink(missing_ok=True)
        self.hosts.close()
        self.service.store.close()


def open_desk(config_path: Path) -> RunningDesk:
    """Read the service's file, open its store and history, bind its socket."""
    try:
        config = load_desk_config(config_path)
        store_path = Path(config.review.store)
        private_folder(store_path.parent)
        store = ReviewStore(store_path)
        history = None
        if config.review.history:
            history_path = Path(config.review.history)
            private_folder(history_path.parent)
            history = ConfigHistory(history_path)
            if not history.exists():
                ConfigHistory.init(history_path)
    except (ConfigError, StoreError, HistoryError, OSError) as error:
        raise DeskStartError(visible(error)) from error
    machine = socket.gethostname()
    identity = f"{pwd.getpwuid(os.geteuid()).pw_name}@{machine}"
    hosts = Hosts(config)
    rules = ReviewRules(
        config.review.required_approvals,
        config.review.forbid_self_approval,
        config.rules_problem,
        config.review.forbid,
    )
    service = DeskService(store, hosts.ports, rules, identity, history, hosts.ready, hosts.names)
    try:
        server = _listen(config.socket, make_handler(service, config.gid, config.group, machine))
    except OSError as error:
        hosts.close()
        store.close()
        raise DeskStartError(f"{config.socket}: {error.strerror}") from error
    return RunningDesk(config, server, service, hosts)


def serve(config_path: Path) -> int:
    """Run the service until SIGTERM or SIGINT."""
    try:
        desk = open_desk(config_path)
    except DeskStartError as error:
        print(f"virtui desk: {error}", file=sys.stderr)
        return 1
    if desk.config.rules_problem:
        why = visible(desk.config.rules_problem)
        print(f"virtui desk: merging disabled: {why}", file=sys.stderr)

    def ended(_signal: int, _frame: object) -> None:
        threading.Thread(target=desk.server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, ended)
    signal.signal(signal.SIGINT, ended)
    print(
        f"virtui desk: listening on {desk.config.socket} for group {desk.config.group}", flush=True
    )
    try:
        desk.server.serve_forever(poll_interval=0.5)
    finally:
        desk.close()
    return 0


def relay(path: str) -> int:
    """Join standard input and output to the desk's socket until either side ends."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as error:
        print(f"virtui desk relay: {path}: {error.strerror}", file=sys.stderr)
        return 1

    def upstream() -> None:
        while data := os.read(0, 65536):
            sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)

    threading.Thread(target=upstream, daemon=True).start()
    while data := sock.recv(65536):
        os.write(1, data)
    return 0


def desk_main(argv: Sequence[str]) -> int:
    """``virtui desk serve|relay``."""
    parser = argparse.ArgumentParser(prog="virtui desk", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="action", metavar="COMMAND", required=True)
    serving = commands.add_parser("serve", help="run the team's desk service")
    serving.add_argument(
        "--config",
        type=Path,
        default=Path("/etc/virtui/desk.toml"),
        help="the service's file: socket, group, rules, hosts (default: %(default)s)",
    )
    relaying = commands.add_parser("relay", help="join stdin/stdout to the desk's socket (ssh)")
    relaying.add_argument("socket")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="virtui desk: %(message)s")
    if args.action == "serve":
        return serve(args.config)
    return relay(args.socket)
