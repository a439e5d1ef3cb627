"""Where two renderings of one line differ, so only that part is sent to the terminal."""

from __future__ import annotations


def changed_span(before: str, after: str) -> tuple[int, int] | None:
    """The [start, end) character range outside which ``before`` and ``after`` agree;
    None when they are equal. Lines of different lengths differ from the first
    character that differs to the end of the longer one.

    Meant for lines of one-cell characters (charts, padded table cells).
    """
    if before == after:
        return None
    shortest = min(len(before), len(after))
    start = 0
    while start < shortest and before[start] == after[start]:
        start += 1
    if len(before) != len(after):
        return start, max(len(before), len(after))
    end = len(after)
    while end > start and before[end - 1] == after[end - 1]:
        end -= 1
    return start, end
