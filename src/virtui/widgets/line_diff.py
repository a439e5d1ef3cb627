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


def changed_runs(before: str, after: str, gap: int) -> list[tuple[int, int]]:
    """The [start, end) ranges where ``before`` and ``after`` differ, as a terminal
    library such as curses would send them: runs closer than ``gap`` equal characters
    are one run (moving the cursor over a short gap costs more than rewriting it).

    Lines of different lengths differ from the end of the shorter one to the end of
    the longer one. Meant for lines of one-cell characters.
    """
    shortest = min(len(before), len(after))
    runs: list[tuple[int, int]] = []
    for index in range(shortest):
        if before[index] != after[index]:
            if runs and index - runs[-1][1] < gap:
                runs[-1] = (runs[-1][0], index + 1)
            else:
                runs.append((index, index + 1))
    if len(before) != len(after):
        end = max(len(before), len(after))
        if runs and shortest - runs[-1][1] < gap:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((shortest, end))
    return runs
