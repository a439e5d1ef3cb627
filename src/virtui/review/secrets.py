"""Secrets in domain XML are kept in the 0600 store and shown or exported nowhere.

The secure XML virtui reads (``VIR_DOMAIN_XML_SECURE``) carries graphics passwords
(``passwd=``), and ``<qemu:arg>`` values may carry ``password=`` or secret ``data=``.
``redact`` replaces each such value with ``(redacted)``; it works on text, line by line,
so a diff of two redacted texts lines up with the diff of the originals.
"""

from __future__ import annotations

import re

REDACTED = "(redacted)"

# An attribute whose value is a secret: passwd='…' / password="…".
_ATTRIBUTE = re.compile(r"""(\b(?:passwd|password)\s*=\s*)(['"])(.*?)\2""", re.IGNORECASE)
# Secrets inside a command-line argument: password=…, secret data=…, passwd=….
_ARGUMENT = re.compile(r"""((?:password|passwd|data|key)=)([^,'"\s]+)""", re.IGNORECASE)
_QEMU_ARG = re.compile(r"""(<qemu:arg\s+value=)(['"])(.*?)\2""", re.IGNORECASE)
_ELEMENT = re.compile(r"(<(passwd|password)>)(.*?)(</\2>)", re.IGNORECASE)


def _arg(match: re.Match[str]) -> str:
    value = _ARGUMENT.sub(lambda m: m.group(1) + REDACTED, match.group(3))
    return f"{match.group(1)}{match.group(2)}{value}{match.group(2)}"


def redact_line(line: str) -> str:
    """One line with every secret value replaced."""
    line = _ATTRIBUTE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}{m.group(2)}", line)
    line = _ELEMENT.sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(4)}", line)
    return _QEMU_ARG.sub(_arg, line)


def redact(text: str) -> str:
    """``text`` with every secret value replaced (line structure unchanged)."""
    return "\n".join(redact_line(line) for line in text.split("\n"))


def redact_lines(lines: list[str]) -> list[str]:
    """Each line redacted (diffs, summaries)."""
    return [redact_line(line) for line in lines]


def has_secret(text: str) -> bool:
    """True when ``redact`` would change ``text``."""
    return redact(text) != text


def restore(redacted_text: str, original: str) -> str:
    """Put back secrets into lines of ``redacted_text`` that are redactions of lines of
    ``original`` (an imported patch applied to a redacted live configuration). Raises
    ValueError when a redacted line has no original to restore it from."""
    originals: dict[str, str] = {}
    for line in original.split("\n"):
        if redact_line(line) != line:
            originals.setdefault(redact_line(line), line)
    restored = []
    for line in redacted_text.split("\n"):
        if REDACTED in line:
            if line not in originals:
                raise ValueError(
                    f"a secret was redacted on export and is not in the live configuration: "
                    f"{line.strip()}"
                )
            line = originals[line]
        restored.append(line)
    return "\n".join(restored)
