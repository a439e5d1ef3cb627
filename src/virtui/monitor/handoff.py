"""Handing a graphical console (VNC, SPICE) to a viewer: the SSH tunnel command for the
host's URI, and the remote-viewer connection file. Nothing here runs a program."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from virtui.model.detail import GraphicsInfo

LOCAL_OFFSET = 10000  # the local end of a tunnel: 5900 -> 15900, clear of local displays
CONTROL_PATH = "~/.ssh/virtui-cm-%r@%h:%p"  # one SSH connection reused by every tunnel


@dataclass(frozen=True, slots=True)
class Handoff:
    """How to reach one graphical console from here."""

    kind: str  # vnc or spice
    tunnel: str  # the ssh command to run first ("" when the host is this machine)
    host: str  # where the viewer connects
    port: int
    vv: str  # a remote-viewer connection file (no password: never exported unasked)

    @property
    def viewer_uri(self) -> str:
        """``vnc://127.0.0.1:15900``."""
        return f"{self.kind}://{self.host}:{self.port}"


def handoff(uri: str, graphics: GraphicsInfo) -> Handoff:
    """The tunnel for a console of a host reached at ``uri``: over SSH with the user,
    port and key file of a ``qemu+ssh`` URI, reusing one master connection; for other
    remote transports the same tunnel to the host's name; none for a local host."""
    parts = urlsplit(uri)
    remote_end = graphics.listen if graphics.listen not in ("", "0.0.0.0", "::") else "127.0.0.1"
    if not parts.hostname or parts.hostname in ("localhost", "127.0.0.1", "::1"):
        return Handoff(
            graphics.kind,
            "",
            remote_end,
            graphics.port,
            _vv(graphics.kind, remote_end, graphics.port),
        )
    local = graphics.port + LOCAL_OFFSET
    words = [
        "ssh",
        "-N",
        "-o",
        "ControlMaster=auto",
        "-o",
        f"ControlPath={CONTROL_PATH}",
        "-o",
        "ControlPersist=600",
        "-L",
        f"{local}:{remote_end}:{graphics.port}",
    ]
    if parts.scheme.endswith("+ssh"):
        if parts.port:
            words += ["-p", str(parts.port)]
        keyfile = parse_qs(parts.query).get("keyfile", [""])[0]
        if keyfile:
            words += ["-i", keyfile]
    target = f"{parts.username}@{parts.hostname}" if parts.username else parts.hostname
    words.append(target)
    command = " ".join(shlex.quote(word) for word in words)
    return Handoff(
        graphics.kind, command, "127.0.0.1", local, _vv(graphics.kind, "127.0.0.1", local)
    )


def _vv(kind: str, host: str, port: int) -> str:
    return f"[virt-viewer]\ntype={kind}\nhost={host}\nport={port}\ndelete-this-file=0\n"
