"""Checks of libvirt log filter and output strings, before they are sent to a daemon.

Syntax (libvirt's "Logging in the library and the daemons"): filters are
``LEVEL:[+]NAME`` and outputs ``LEVEL:stderr``, ``LEVEL:syslog:IDENT``,
``LEVEL:file:/ABS/PATH`` or ``LEVEL:journald``, space-separated; LEVEL is 1 (debug),
2 (info), 3 (warning) or 4 (error).
"""

from __future__ import annotations

import re

_FILTER = re.compile(r"^[1-4]:\+?[A-Za-z0-9_.*-]+$")
_OUTPUT = re.compile(r"^[1-4]:(stderr|journald|syslog:[A-Za-z0-9_.-]+|file:/\S+)$")
DEBUG_WARNING = (
    "Level 1 (debug) makes the daemon format and write every message of the matching "
    "modules: with a broad filter that costs real CPU and fills disks within hours. "
    "Prefer narrow filters such as 1:qemu 3:object, and turn them off when done. "
    "Changes last until the daemon restarts."
)


def check_filters(text: str) -> str:
    """ "" when ``text`` is a valid filter list (empty clears the filters), else why not."""
    for word in text.split():
        if not _FILTER.match(word):
            return (
                f"{word!r} is not a log filter: write LEVEL:NAME with LEVEL 1-4, "
                "e.g. 1:qemu 3:object"
            )
    return ""


def check_outputs(text: str) -> str:
    """ "" when ``text`` is a valid, non-empty output list, else why not."""
    if not text.split():
        return "the daemon needs at least one log output, e.g. 3:stderr"
    for word in text.split():
        if not _OUTPUT.match(word):
            return (
                f"{word!r} is not a log output: write LEVEL:stderr, LEVEL:journald, "
                "LEVEL:syslog:NAME or LEVEL:file:/absolute/path"
            )
    return ""


def uses_debug(filters: str, outputs: str) -> bool:
    """True when the settings would make the daemon log at debug level."""
    return any(word.startswith("1:") for word in (filters + " " + outputs).split())
