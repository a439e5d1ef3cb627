"""Which libvirt URIs may be opened from where: an allow-list.

Some libvirt transports run a program on this machine or put text into a command line on
the far side: the ``ext`` transport runs ``command=``; the ssh transports take the ssh
binary from ``command=``, the remote ``nc`` from ``netcat=``, a proxy mode from
``proxy=`` and a remote socket path that ends up in the remote shell from ``socket=``;
the embedded QEMU driver reads domain XML (with its ``<emulator>``) from ``root=``.
libvirt itself percent-decodes parameter names into C strings, so ``command%00x`` is
``command`` to it, and it splits parameters on ``&`` and ``;``.

So a URI from inside the app (``:connect``, a served browser, settings.toml which the
app writes, the review desk's store) is opened only when every part of it is on the
lists below: a known driver, a transport that runs nothing here, a host and user that
cannot be read as ssh options, and parameters by their exact, unescaped names with
values free of control characters. ``qemu:///embed`` only for the demo's own root,
owned by this user and closed to others. A URI given with ``-c`` on the command line
or written by hand in config.toml is the administrator's own and may use anything,
except with ``--readonly``, which applies the same allow-list everywhere.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from urllib.parse import unquote, urlsplit

from virtui.config.settings import cache_dir

# libvirt's hypervisor drivers (a URI's scheme before any '+transport').
_DRIVERS = frozenset(
    {"qemu", "test", "lxc", "xen", "libxl", "ch", "bhyve", "vz", "openvz", "vbox", "esx"}
)
# Transports that reach a daemon without running a program named by the URI, and the
# parameters each may carry (names compared as libvirt does, ignoring case).
_SSH = frozenset({"keyfile", "known_hosts", "known_hosts_verify", "sshauth", "no_verify", "no_tty"})
_TRANSPORT_PARAMETERS: dict[str, frozenset[str]] = {
    "": frozenset(),  # local, or TLS when a host is named
    "unix": frozenset({"socket"}),  # a local socket path: runs nothing
    "tcp": frozenset(),
    "tls": frozenset({"pkipath", "no_verify"}),
    "ssh": _SSH,
    "libssh": _SSH,
    "libssh2": _SSH,
}
# A parameter name exactly as libvirt compares it: no escapes, no '+', no NUL.
_NAME = re.compile(r"[A-Za-z_]+")
# Host names, IPv4 and bracketed IPv6 addresses; user names. Neither may begin with '-',
# which ssh would read as an option.
_HOST = re.compile(r"(?!-)[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\]")
_USER = re.compile(r"(?!-)[A-Za-z0-9._\-]+")
_VIRTUI_SCHEMES = ("replay://", "prometheus+http://", "prometheus+https://")


def _control(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def demo_root() -> Path:
    """The embedded demo's driver root, the one ``qemu:///embed`` root the app opens."""
    return cache_dir() / "demo-embed"


def _embed_root_refusal(root: str) -> str:
    if Path(root) != demo_root():
        return f"qemu:///embed is allowed only for the demo's own root ({demo_root()})"
    try:
        info = os.lstat(root)
    except OSError as error:
        return f"the demo's root cannot be checked: {error.strerror}"
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        return "the demo's root is not a folder of this user's"
    if info.st_mode & 0o077:
        return "the demo's root is open to other users (it must be 0700)"
    return ""


def _parameters(query: str) -> list[tuple[str, str]] | str:
    """The query's (name, value) pairs as libvirt reads them, or why it cannot be read."""
    pairs = []
    for part in re.split(r"[&;]", query):
        if not part:
            continue
        name, _eq, value = part.partition("=")
        if not _NAME.fullmatch(name):
            return f"the parameter name {name!r} is not a plain word (escapes are refused)"
        decoded = unquote(value, errors="strict")
        if _control(decoded):
            return f"the {name}= parameter holds control characters"
        pairs.append((name.lower(), decoded))
    return pairs


def refusal(uri: str) -> str:
    """Why ``uri`` is not on the allow-list of URIs the app may open, or ""."""
    if _control(uri):
        return "the URI holds control characters"
    if uri.startswith(_VIRTUI_SCHEMES):
        return ""  # virtui's own: a local recording, or HTTP to Prometheus
    try:
        parts = urlsplit(uri.strip())
        host, port, user = parts.hostname, parts.port, parts.username  # each may raise
    except (ValueError, UnicodeError) as error:
        return f"not a URI: {error}"
    driver, _plus, transport = parts.scheme.lower().partition("+")
    if driver not in _DRIVERS:
        return f"{driver or 'no'} driver: not one of libvirt's"
    allowed = _TRANSPORT_PARAMETERS.get(transport)
    if allowed is None:
        return f"the {transport!r} transport is not allowed (it may run a program)"
    del port  # read only so that a port that is not a number is refused above
    where = parts.netloc.rpartition("@")[2]
    raw_host = where.partition("]")[0] + "]" if where.startswith("[") else where.partition(":")[0]
    if raw_host and not _HOST.fullmatch(raw_host):
        return f"the host {raw_host!r} is not a host name or address"
    if user is not None and not _USER.fullmatch(unquote(user)):
        return f"the user {user!r} is not a plain account name"
    if parts.password is not None:
        return "a password in the URI is not allowed"
    if "%" in parts.path or parts.fragment:
        return "escapes and fragments in the URI's path are not allowed"
    pairs = _parameters(parts.query)
    if isinstance(pairs, str):
        return pairs
    for name, value in pairs:
        if name == "root" and driver == "qemu" and not transport and not host:
            if parts.path != "/embed":
                return "root= is for qemu:///embed only"
            why = _embed_root_refusal(value)
            if why:
                return why
        elif name not in allowed:
            return f"the {name}= parameter is not allowed on this transport"
        elif name == "socket" and not value.startswith("/"):
            return "socket= must be an absolute path"
    if parts.path == "/embed" and driver == "qemu" and "root" not in dict(pairs):
        return "qemu:///embed needs the demo's root"
    return ""


class UriRefused(ValueError):
    """A URI that may not be opened from where it came; the message says why."""


def check_in_app(uri: str) -> None:
    """Raise UriRefused unless ``uri`` may be opened from inside the app."""
    if _control(uri):  # said without the URI itself, which would carry them
        raise UriRefused("the URI holds control characters")
    why = refusal(uri)
    if why:
        raise UriRefused(
            f"{uri}: {why}; such URIs are accepted only with -c on the command line "
            "or in config.toml"
        )


def check_readonly(uri: str) -> None:
    """Raise UriRefused unless ``uri`` is on the allow-list (``--readonly`` allows no
    other, wherever it came from)."""
    why = refusal(uri)
    if why:
        raise UriRefused(f"{uri}: {why}; --readonly refuses it")
