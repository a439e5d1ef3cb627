"""Handing a graphical console (VNC, SPICE) to a viewer: the SSH tunnel command for the
host's URI, and the remote-viewer connection file. Nothing here runs a program."""

from __future__ import annotations

import os
import shlex
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from virtui.account import account_name
from virtui.model.detail import GraphicsInfo

LOCAL_OFFSET = 10000  # the local end of a tunnel: 5900 -> 15900, clear of local displays
CONTROL_PATH = "~/.ssh/virtui-cm-%r@%h:%p"  # one SSH connection reused by every tunnel
PERSIST_S = 600  # how long that connection, and the tunnels over it, outlive their use
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class Handoff:
    """How to reach one graphical console from where the viewer runs."""

    kind: str  # vnc or spice
    tunnel: str  # the ssh command to run first ("" when the host is this machine)
    host: str  # where the viewer connects
    port: int
    vv: str  # a remote-viewer connection file (no password: never exported unasked)
    close: str = ""  # closes the tunnel's shared SSH connection now ("": Ctrl+C does)
    # virtui runs inside an SSH session (a jump host): the tunnel and the viewer are
    # for the person's own machine, where the viewer is.
    on_workstation: bool = False

    @property
    def viewer_uri(self) -> str:
        """``vnc://127.0.0.1:15900``."""
        return f"{self.kind}://{self.host}:{self.port}"


def port_is_free(port: int) -> bool:
    """True when nothing on this machine listens on the loopback ``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class LocalPorts:
    """The local ends of the tunnels this process hands out: one per console (where the
    tunnel goes, and the console's address there), never one port for two consoles,
    and free on this machine when first handed out. The same console gets the same port
    again, so a tunnel still open is reused."""

    def __init__(self, is_free: Callable[[int], bool] = port_is_free) -> None:
        self._is_free = is_free
        self._given: dict[tuple[str, str, int], int] = {}

    def port_for(self, via: str, remote_end: str, remote_port: int) -> int:
        console = (via, remote_end, remote_port)
        given = self._given.get(console)
        if given is not None:
            return given
        taken = set(self._given.values())
        port = remote_port + LOCAL_OFFSET if remote_port + LOCAL_OFFSET < 65536 else 20000
        while port in taken or not self._is_free(port):
            port = port + 1 if port < 65535 else 20000
        self._given[console] = port
        return port


LOCAL_PORTS = LocalPorts()


def handoff(
    uri: str,
    graphics: GraphicsInfo,
    ports: LocalPorts = LOCAL_PORTS,
    *,
    environ: Mapping[str, str] = os.environ,
    account: str | None = None,
) -> Handoff:
    """The tunnel for a console of a host reached at ``uri``: over SSH with the user,
    port and key file of a ``qemu+ssh`` URI (a loopback address there is a forwarded
    port, not this machine), reusing one master connection; for other remote transports
    the same tunnel to the host's name; none for a local host. Inside an SSH session
    (``SSH_CONNECTION``), the commands are for the person's machine, through this one
    (``account`` on it: by default the one this process runs as, never $USER)."""
    parts = urlsplit(uri)
    remote_end = graphics.listen if graphics.listen not in ("", "0.0.0.0", "::") else "127.0.0.1"
    ssh = parts.scheme.endswith("+ssh")
    this_machine = not parts.hostname or (not ssh and parts.hostname in _LOOPBACK)
    jump = _jump_host(environ, account)
    if this_machine and jump is None:
        return Handoff(
            graphics.kind,
            "",
            remote_end,
            graphics.port,
            _vv(graphics.kind, remote_end, graphics.port),
        )
    if this_machine and jump is not None:  # the jump host's own guest: a tunnel to it
        address, port, user = jump
        local = ports.port_for(f"{user}@{address}:{port}", remote_end, graphics.port)
        words = ["ssh", "-N", "-o", "ExitOnForwardFailure=yes"]
        words += ["-L", f"{local}:{remote_end}:{graphics.port}", "-p", port, f"{user}@{address}"]
        return _tunnelled(graphics.kind, words, local, on_workstation=True)
    target = f"{parts.username}@{parts.hostname}" if parts.username else str(parts.hostname)
    where = ["-p", str(parts.port)] if ssh and parts.port else []
    local = ports.port_for(f"{target}:{parts.port or 22}", remote_end, graphics.port)
    shared = ["-o", "ControlMaster=auto", "-o", f"ControlPath={CONTROL_PATH}"]
    words = ["ssh", "-N"]
    if jump is not None:  # from the person's machine, through the jump host
        address, port, user = jump
        words += ["-J", f"{user}@{address}:{port}"]
    words += [*shared, "-o", f"ControlPersist={PERSIST_S}", "-o", "ExitOnForwardFailure=yes"]
    words += ["-L", f"{local}:{remote_end}:{graphics.port}", *where]
    keyfile = parse_qs(parts.query).get("keyfile", [""])[0] if ssh else ""
    if keyfile and jump is None:  # a key on the jump host is not on the person's machine
        words += ["-i", keyfile]
    words.append(target)
    close = shlex.join(["ssh", "-O", "exit", *shared[2:], *where, target])
    return _tunnelled(graphics.kind, words, local, close, on_workstation=jump is not None)


def _tunnelled(
    kind: str, words: list[str], local: int, close: str = "", *, on_workstation: bool
) -> Handoff:
    """A console reached through the ssh command ``words``, at ``local`` here."""
    return Handoff(
        kind,
        shlex.join(words),
        "127.0.0.1",
        local,
        _vv(kind, "127.0.0.1", local),
        close=close,
        on_workstation=on_workstation,
    )


def _jump_host(environ: Mapping[str, str], account: str | None) -> tuple[str, str, str] | None:
    """(address, port, account) of this machine as the SSH session virtui runs in
    reached it; None when virtui does not run inside SSH."""
    words = environ.get("SSH_CONNECTION", "").split()
    if len(words) != 4:
        return None
    return words[2], words[3], account_name() if account is None else account


def _vv(kind: str, host: str, port: int) -> str:
    return f"[virt-viewer]\ntype={kind}\nhost={host}\nport={port}\ndelete-this-file=0\n"
