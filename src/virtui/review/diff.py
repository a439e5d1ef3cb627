"""Unified and side-by-side diffs of XML text, and applying a unified diff."""

from __future__ import annotations

import difflib
import re

import merge3

from virtui.review.secrets import redact, redact_lines
from virtui.review.xmlsafe import canonical

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class PatchDoesNotApply(ValueError):
    """The diff's context is not in the text; the message names the hunk."""


def change_diff(base: str, proposed: str) -> list[str]:
    """The unified diff of two domain XMLs, both canonicalised first (see canonical)."""
    return unified(canonical(base), canonical(proposed))


def shown_diff(base: str, proposed: str) -> list[str]:
    """The diff as every display and export shows it: secrets redacted."""
    return redact_lines(change_diff(base, proposed))


def shown_side_by_side(base: str, proposed: str) -> list[tuple[str, str, str]]:
    """The side-by-side rows with secrets redacted."""
    return side_by_side(redact(canonical(base)), redact(canonical(proposed)))


class MergeConflict(ValueError):
    """A three-way merge found both sides changing the same lines; ``text`` holds the
    result with conflict markers, for the author to resolve."""

    def __init__(self, message: str, text: str) -> None:
        super().__init__(message)
        self.text = text


def three_way(base: str, ours: str, theirs: str) -> str:
    """``ours`` (a proposal on ``base``) carried over onto ``theirs`` (the live text), as
    ``git merge-file`` does; raises MergeConflict where both changed the same lines."""
    merger = merge3.Merge3(base.splitlines(True), ours.splitlines(True), theirs.splitlines(True))
    conflicts = sum(1 for region in merger.merge_regions() if region[0] == "conflict")
    text = "".join(
        merger.merge_lines(
            name_a="proposal", name_b="live", start_marker="<<<<<<<", end_marker=">>>>>>>"
        )
    )
    if conflicts:
        raise MergeConflict(f"{conflicts} region(s) changed on both sides", text)
    return text


def unified(base: str, proposed: str) -> list[str]:
    """The unified diff (``--- base`` / ``+++ proposed``), lines without newlines."""
    return list(
        difflib.unified_diff(
            base.splitlines(), proposed.splitlines(), "base", "proposed", lineterm="", n=3
        )
    )


def side_by_side(base: str, proposed: str) -> list[tuple[str, str, str]]:
    """(old line, marker, new line) for the changed regions with one line of context."""
    old, new = base.splitlines(), proposed.splitlines()
    rows: list[tuple[str, str, str]] = []
    for group in difflib.SequenceMatcher(None, old, new).get_grouped_opcodes(1):
        if rows:
            rows.append(("…", " ", "…"))
        for tag, i1, i2, j1, j2 in group:
            left, right = old[i1:i2], new[j1:j2]
            marker = {"equal": " ", "replace": "|", "delete": "<", "insert": ">"}[tag]
            for n in range(max(len(left), len(right))):
                rows.append(
                    (left[n] if n < len(left) else "", marker, right[n] if n < len(right) else "")
                )
    return rows


def _hunks(diff: list[str]) -> list[tuple[int, list[str]]]:
    hunks: list[tuple[int, list[str]]] = []
    for line in diff:
        match = _HUNK.match(line)
        if match:
            hunks.append((int(match.group(1)) - (0 if match.group(2) == "0" else 1), []))
        elif hunks and line[:1] in (" ", "-", "+"):
            hunks[-1][1].append(line)
        elif hunks:
            raise PatchDoesNotApply(f"not a diff line: {line!r}")
    return hunks


def _find(lines: list[str], old: list[str], expected: int, start: int) -> int:
    """Where ``old`` occurs in ``lines`` at or after ``start``, nearest to ``expected``."""
    found = [
        at for at in range(start, len(lines) - len(old) + 1) if lines[at : at + len(old)] == old
    ]
    if not found:
        return -1
    return min(found, key=lambda at: abs(at - expected))


def apply_unified(text: str, diff: list[str]) -> str:
    """``text`` with ``diff`` applied. A hunk may have moved (the text changed elsewhere)
    but its context and removed lines must be there exactly, in order."""
    lines = text.splitlines()
    result: list[str] = []
    position = 0
    shift = 0
    for expected, body in _hunks(diff):
        old = [line[1:] for line in body if line[:1] in (" ", "-")]
        new = [line[1:] for line in body if line[:1] in (" ", "+")]
        at = _find(lines, old, expected + shift, position)
        if at < 0:
            raise PatchDoesNotApply(
                f"the change near line {expected + 1} does not fit the current XML"
            )
        shift = at - expected
        result.extend(lines[position:at])
        result.extend(new)
        position = at + len(old)
    result.extend(lines[position:])
    return "\n".join(result) + ("\n" if text.endswith("\n") else "")
