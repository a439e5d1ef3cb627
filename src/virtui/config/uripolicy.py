"""Which libvirt URIs may be opened from where.

Some libvirt transports run a program on this machine or put text into a command line on
the far side: the ``ext`` transport runs ``command=``; the ssh transports take the ssh
binary from ``command=``, the remote ``nc`` from ``netcat=``, a proxy mode from
``proxy=`` and a remote socket path that ends up in the remote shell from ``socket=``.
Such a URI is accepted only from the real command line or the hand-written config.toml,
never from anything typed inside the app (``:connect``, a served browser) or from
settings.toml (which the app writes). With ``--readonly`` it is refused everywhere.

On the ``unix`` transport ``socket=`` names a local socket and runs nothing: allowed.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urlsplit

# Query parameters that name a program, a program's argument or a remote shell word.
_PROGRAM_PARAMETERS = ("command", "netcat", "proxy", "socket")
_TRANSPORTS_THAT_RUN = ("ext",)


def _parameters(query: str) -> list[str]:
    # libvirt splits on both '&' and ';', unescapes names, and compares them ignoring case.
    names = []
    for part in re.split(r"[&;]", query):
        if part:
            names.append(unquote_plus(part.partition("=")[0]).strip().lower())
    return names


def runs_program(uri: str) -> str:
    """Why opening ``uri`` would run a program or shape a remote command line, or ""."""
    try:
        parts = urlsplit(uri.strip())
    except ValueError as error:
        return f"not a URI: {error}"
    _driver, _plus, transport = parts.scheme.lower().partition("+")
    if transport in _TRANSPORTS_THAT_RUN:
        return f"the {transport!r} transport runs a program"
    for name in _parameters(parts.query):
        if name == "socket" and transport == "unix":
            continue
        if name in _PROGRAM_PARAMETERS:
            return f"its {name}= parameter runs a program or shapes a remote command"
    return ""


class UriRefused(ValueError):
    """A URI that may not be opened from where it came; the message says why."""


def check_in_app(uri: str) -> None:
    """Raise UriRefused unless ``uri`` may be opened from inside the app."""
    why = runs_program(uri)
    if why:
        raise UriRefused(
            f"{uri}: {why}; such URIs are accepted only with -c on the command line "
            "or in config.toml"
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in uri):
        raise UriRefused("the URI holds control characters")


def check_readonly(uri: str) -> None:
    """Raise UriRefused when ``uri`` runs a program (``--readonly`` allows none)."""
    why = runs_program(uri)
    if why:
        raise UriRefused(f"{uri}: {why}; --readonly refuses it")
