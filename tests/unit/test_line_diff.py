"""Which parts of a redrawn line reach the terminal."""

from __future__ import annotations

from virtui.widgets.line_diff import changed_runs, changed_span


def test_equal_lines_send_nothing() -> None:
    assert changed_span("vm1  running  0.7", "vm1  running  0.7") is None
    assert changed_runs("vm1  running  0.7", "vm1  running  0.7", gap=8) == []


def test_only_the_characters_that_changed_are_sent() -> None:
    # A CPU figure and a CPU time ticking: two short runs far apart, not the row between.
    before = "vt-bench-04  running     1     0.7    16MiB   0.2     0:01.79 "
    after = "vt-bench-04  running     1     0.6    16MiB   0.2     0:01.80 "
    assert changed_runs(before, after, gap=8) == [(33, 34), (59, 61)]
    assert changed_span(before, after) == (33, 61)


def test_runs_closer_than_the_gap_are_one() -> None:
    assert changed_runs("a1b2c", "a9b8c", gap=8) == [(1, 4)]
    assert changed_runs("a1bbbbbbbbb2c", "a9bbbbbbbbb8c", gap=8) == [(1, 2), (11, 12)]


def test_a_longer_or_shorter_line_differs_to_its_end() -> None:
    assert changed_runs("abc", "abcdef", gap=2) == [(3, 6)]
    assert changed_runs("xbcdef", "abc", gap=2) == [(0, 1), (3, 6)]
    assert changed_runs("abcdXf", "abcd", gap=2) == [(4, 6)]
