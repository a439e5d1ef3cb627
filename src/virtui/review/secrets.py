"""Secrets in domain XML are kept in the 0600 store and shown or exported nowhere.

The secure XML virtui reads (``VIR_DOMAIN_XML_SECURE``) carries graphics passwords
(``passwd=``), ``<qemu:arg>`` values may carry ``password=`` or secret ``data=``, and
``<qemu:env>`` values credentials; any attribute or element named like a password,
passphrase, secret, token or key is treated as one.
``redact`` replaces each such value with ``(redacted)``; it works on text, line by line,
so a diff of two redacted texts lines up with the diff of the originals.
"""

from __future__ import annotations

import re

REDACTED = "(redacted)"

# An attribute, with its value; whether it is a secret is decided by its name.
_ATTRIBUTE = re.compile(r"""(\b([\w:.-]+)\s*=\s*)(['"])(.*?)\3""")
# Names of secrets: a password, passphrase, secret or token anywhere in the name, or a
# name that is "key" or ends in one ("api_key", "ssh-key"; not "keymap" or "monkey").
_SECRET_NAME = re.compile(r"passwd|password|passphrase|secret|token|(?:^|[_.-])key$", re.IGNORECASE)
# An environment variable handed to QEMU: its value is often a credential.
_QEMU_ENV = re.compile(r"""(<qemu:env\b[^>]*?\bvalue\s*=\s*)(['"])(.*?)\2""", re.IGNORECASE)
# Secrets inside a command-line argument: password=…, secret data=…, passwd=….
_ARGUMENT = re.compile(r"""((?:password|passwd|data|key)=)([^,'"\s]+)""", re.IGNORECASE)
_QEMU_ARG = re.compile(r"""(<qemu:arg\s+value=)(['"])(.*?)\2""", re.IGNORECASE)
_ELEMENT = re.compile(
    r"(<([\w:.-]*(?:passwd|password|passphrase|secret|token|key))>)(.*?)(</\2>)", re.IGNORECASE
)


def _arg(match: re.Match[str]) -> str:
    value = _ARGUMENT.sub(lambda m: m.group(1) + REDACTED, match.group(3))
    return f"{match.group(1)}{match.group(2)}{value}{match.group(2)}"


def redact_line(line: str) -> str:
    """One line with every secret value replaced."""
    line = _ATTRIBUTE.sub(_attribute, line)
    line = _QEMU_ENV.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}{m.group(2)}", line)
    line = _ELEMENT.sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(4)}", line)
    return _QEMU_ARG.sub(_arg, line)


def _attribute(match: re.Match[str]) -> str:
    name = match.group(2).rpartition(":")[2]
    if not _SECRET_NAME.search(name):
        return match.group(0)
    return f"{match.group(1)}{match.group(3)}{REDACTED}{match.group(3)}"


def redact(text: str) -> str:
    """``text`` with every secret value replaced (line structure unchanged)."""
    return "\n".join(redact_line(line) for line in text.split("\n"))


def redact_lines(lines: list[str]) -> list[str]:
    """Each line redacted (diffs, summaries)."""
    return [redact_line(line) for line in lines]


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
