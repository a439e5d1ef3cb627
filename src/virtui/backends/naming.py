"""Short, human host names derived from connection URIs."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

# Query parameters of a prometheus+http URI that are options, not label matchers.
PROMETHEUS_OPTIONS = frozenset({"cpus", "node", "via"})


def is_local(uri: str) -> bool:
    """True for URIs whose guests' files are on this machine (no remote host part)."""
    return not urlsplit(uri).hostname


def host_label(uri: str) -> str:
    """A short name for a URI: the remote host, or the driver for local URIs.

    >>> host_label("qemu+ssh://admin@h1/system")
    'h1'
    >>> host_label("qemu:///embed?root=/tmp/x")
    'embed'
    >>> host_label("test:///default")
    'test'
    """
    parts = urlsplit(uri)
    if parts.scheme.startswith("prometheus"):
        # One Prometheus serves many hosts: the target's label names this one.
        labels = [v for k, v in parse_qsl(parts.query) if k not in PROMETHEUS_OPTIONS]
        return f"{labels[0] if labels else parts.hostname or 'prometheus'}@prom"
    if parts.hostname:
        return parts.hostname
    scheme = parts.scheme.split("+", 1)[0] or "host"
    if scheme == "qemu" and parts.path.strip("/") == "embed":
        return "embed"
    if scheme == "replay":
        stem = parts.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        return stem or "replay"
    if scheme == "qemu" and parts.path.strip("/") in ("system", ""):
        return "localhost"
    return scheme


def unique_labels(uris: Iterable[str]) -> list[str]:
    """Labels for several URIs, with ``#2``, ``#3`` appended where they would clash."""
    seen: dict[str, int] = {}
    labels: list[str] = []
    for uri in uris:
        base = host_label(uri)
        count = seen.get(base, 0) + 1
        seen[base] = count
        labels.append(base if count == 1 else f"{base}#{count}")
    return labels
