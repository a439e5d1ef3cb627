"""Where libvirt keeps a domain's QEMU log, and a local daemon's log settings."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from virtui.backends.base import BackendError
from virtui.model.timeline import DaemonLogging, LogLocation

SYSTEM_QEMU_LOGS = "/var/log/libvirt/qemu"
VIRT_ADMIN_TIMEOUT_S = 10.0


def qemu_log_location(uri: str, name: str) -> LogLocation:
    """The QEMU log of domain ``name`` reached through ``uri``."""
    parts = urlsplit(uri)
    driver = parts.scheme.split("+")[0]
    query = parse_qs(parts.query)
    if driver != "qemu":
        return LogLocation("", False, f"the {driver} driver runs no QEMU, so there is no QEMU log")
    if parts.path == "/embed":
        root = query.get("root", [""])[0]
        return LogLocation(f"{root}/log/qemu/{name}.log", True)
    if parts.path == "/session":
        home = Path.home() / ".cache" / "libvirt" / "qemu" / "log"
        path = str(home / f"{name}.log")
    else:
        path = f"{SYSTEM_QEMU_LOGS}/{name}.log"
    if parts.hostname:
        host = parts.hostname
        return LogLocation(
            path,
            False,
            f"on {host}: {path} (read it there, e.g. {ssh_command(uri)} tail -f {path})",
        )
    return LogLocation(path, True)


def ssh_command(uri: str) -> str:
    """The ssh command that reaches the host of ``uri`` as libvirt does: the same user,
    port and key (``qemu+ssh://root@h:2222/system?keyfile=K`` → ``ssh -p 2222 -i K root@h``)."""
    parts = urlsplit(uri)
    query = parse_qs(parts.query)
    words = ["ssh"]
    if parts.port:
        words += ["-p", str(parts.port)]
    keyfile = query.get("keyfile", [""])[0]
    if keyfile:
        words += ["-i", keyfile]
    target = f"{parts.username}@{parts.hostname}" if parts.username else str(parts.hostname)
    words.append(target)
    return shlex.join(words)


def admin_uri(uri: str) -> str:
    """The admin URI of the daemon behind ``uri``; BackendError when there is none."""
    parts = urlsplit(uri)
    driver, _plus, transport = parts.scheme.partition("+")
    if parts.hostname:
        raise BackendError(
            f"{parts.hostname} is remote: change its logging on that host (virt-admin)"
        )
    if parts.path == "/embed" or (driver == "test" and not transport):
        raise BackendError(
            "an in-process driver has no daemon: its logging is virtui's own "
            "(LIBVIRT_LOG_FILTERS / LIBVIRT_LOG_OUTPUTS at start)"
        )
    socket = parse_qs(parts.query).get("socket", [""])[0]
    if socket:
        admin_socket = os.path.join(os.path.dirname(socket), "libvirt-admin-sock")
        return f"libvirtd:///system?socket={admin_socket}"
    return "libvirtd:///session" if parts.path == "/session" else "libvirtd:///system"


def _virt_admin(uri: str, *args: str) -> str:
    program = shutil.which("virt-admin")
    if program is None:
        raise BackendError("virt-admin is not installed (Debian: libvirt-clients)")
    try:
        done = subprocess.run(
            [program, "-c", admin_uri(uri), *args],
            capture_output=True,
            text=True,
            timeout=VIRT_ADMIN_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise BackendError(
            f"the daemon did not answer within {VIRT_ADMIN_TIMEOUT_S:.0f}s"
        ) from error
    if done.returncode != 0:
        message = done.stderr.strip().removeprefix("error: ").replace("\nerror: ", ": ")
        raise BackendError(f"virt-admin: {message or 'failed'}")
    return done.stdout


def read_daemon_logging(uri: str) -> DaemonLogging:
    """The filters and outputs the daemon uses now (as it normalised them)."""
    filters = _virt_admin(uri, "daemon-log-filters").split(":", 1)[-1]
    outputs = _virt_admin(uri, "daemon-log-outputs").split(":", 1)[-1]
    return DaemonLogging(" ".join(filters.split()), " ".join(outputs.split()))


def set_daemon_logging(uri: str, filters: str | None, outputs: str | None) -> DaemonLogging:
    """Change the daemon's filters and/or outputs at run time, then read them back."""
    if filters is not None:
        _virt_admin(uri, "daemon-log-filters", filters)
    if outputs is not None:
        _virt_admin(uri, "daemon-log-outputs", outputs)
    return read_daemon_logging(uri)
