"""Text from libvirt, a host, a file or a user is data: make its control characters visible.

A domain can be named ``a\\x1b]0;pwned\\x07``; written raw, that sets the terminal's
title. Everything such text reaches (screens, notifications, the timeline, log files,
CSV) goes through ``visible`` (one line) or ``visible_lines`` (line breaks kept), which
turn C0 and C1 control characters, DEL and the Unicode bidirectional overrides into
``\\xNN``/``\\uNNNN`` escapes. Printable text, tabs included in multi-line text, is
unchanged.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, and the bidi embeddings/overrides/isolates that can make
# text read differently from what it is ("Trojan Source").
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_BUT_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: object) -> str:
    """``text`` on one line, every control character shown as an escape."""
    return _CONTROL.sub(_escape, str(text))


def visible_lines(text: object) -> str:
    """Like ``visible`` but keeping line feeds and tabs (XML, log tails)."""
    return _CONTROL_BUT_LINES.sub(_escape, str(text))


def error_text(error: object) -> str:
    """What a failure says, for a person: a backend's readable ``message`` when it has
    one, else the exception's text; control characters visible."""
    return visible(getattr(error, "message", error))


# Spreadsheets run a cell that starts with one of these as a formula (OWASP's list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: object) -> str:
    """A CSV cell that no spreadsheet runs as a formula, control characters visible."""
    raw = str(text)
    cell = visible(raw)
    if raw.startswith(_FORMULA_START):
        return "'" + cell
    return cell


# What XML 1.0 cannot hold at all; libvirt keeps such characters raw in its XML (a
# domain renamed with an ESC), and a parser then refuses the whole document.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_parsable(text: str) -> str:
    """``text`` with every character XML forbids shown as an escape, so it parses."""
    return _XML_ILLEGAL.sub(_escape, text)
