"""What virtui writes to its terminal: the bytes a user over SSH waits for.

virtui runs on a real pseudo-terminal here (as the benchmark runs it), or in tmux when
the screen itself is compared.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.bench_poll import build_node
from benchmarks.console_run import run_console

from tests.integration.tmux import require_tmux, tmux, wait_for_text

VIRTUI = [sys.executable, "-m", "virtui"]


def test_a_refresh_that_changes_nothing_sends_almost_nothing(tmp_path: Path) -> None:
    # 1,000 domains of the test driver all read the same figures every second: round 1
    # rewrote the whole table each refresh (12 KB a second at 120x35; virt-top: 1.7 KB).
    # Sorted by name: the test driver's CPU time is its wall clock, so on a busy machine
    # the %CPU of each domain wobbles around 100.0 and a CPU sort would really reorder.
    uri = build_node(tmp_path, 1000)
    argv = [*VIRTUI, "-c", uri, "-d", "1", "-o", "name"]
    figures = run_console(argv, marker=b"virtui", filled=b"vm0", warmup_s=8, window_s=6)
    assert figures.filled_s == figures.filled_s, "the table never showed a domain"
    assert figures.bytes_per_refresh < 600, figures.output[-2000:]


def test_the_header_is_drawn_before_the_libraries_load(tmp_path: Path) -> None:
    uri = build_node(tmp_path, 10)
    figures = run_console([*VIRTUI, "-c", uri, "-d", "1"], marker=b"vm0", warmup_s=3, window_s=1)
    output = bytes(figures.output)
    header = output.find(b"virtui \xe2\x94\x82 connecting to 1 host")
    textual = output.find(b"\x1b[?1049h", 1)  # Textual entering the alternate screen
    assert 0 <= header < textual, output[:300]
    assert figures.first_frame_s == figures.first_frame_s, "the table never showed"


def test_partly_repainted_screen_equals_a_full_repaint(fleet_uri: str, tmp_path: Path) -> None:
    """Cursor moves, marks, a sort and the disk columns' switch repaint only what changed;
    the screen must then be what a full repaint (a resize) draws."""
    require_tmux()
    server = "vt-repaint"
    # COLUMNS and LINES from the test process would override the window's size.
    command = (
        f"env -u COLUMNS -u LINES "
        f"XDG_CONFIG_HOME={tmp_path}/config XDG_STATE_HOME={tmp_path}/state "
        f"{' '.join(VIRTUI)} -c {fleet_uri} -d 60"
    )
    tmux(server, "new-session", "-d", "-x", "120", "-y", "30", command)
    try:
        wait_for_text(server, "cache01")
        for key in ("j", "j", "Space", "N", "k", "B", "M", "Space", "R"):
            tmux(server, "send-keys", key)
        wait_for_text(server, "sort MEM▲")
        partial = tmux(server, "capture-pane", "-p", "-e")
        assert "RX/s" in partial
        # Narrow enough that the network columns give way (a full repaint), then back.
        tmux(server, "resize-window", "-x", "90", "-y", "30")
        _wait_until(server, lambda pane: "RX/s" not in pane)
        tmux(server, "resize-window", "-x", "120", "-y", "30")
        full = _wait_until(server, lambda pane: "RX/s" in pane)
        assert full == partial
    finally:
        tmux(server, "kill-server")


def _wait_until(server: str, condition: Callable[[str], bool], timeout: float = 20.0) -> str:
    """The pane (with its colours) once ``condition`` holds and it stopped changing."""
    deadline = time.monotonic() + timeout
    previous = ""
    while time.monotonic() < deadline:
        pane = tmux(server, "capture-pane", "-p", "-e")
        if condition(pane) and pane == previous:
            return pane
        previous = pane
        time.sleep(0.2)
    raise AssertionError(f"the pane never settled; it shows:\n{previous}")
