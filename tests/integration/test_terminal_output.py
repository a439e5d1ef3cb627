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

from tests.integration.pty_console import PtyConsole
from tests.integration.tmux import require_tmux, tmux, wait_for_text
from virtui.backends.replay import save_recording
from virtui.model import DomainKey, DomainSample, DomainState, HostInfo, HostPoll

VIRTUI = [sys.executable, "-m", "virtui"]


def _own_settings(tmp_path: Path) -> dict[str, str]:
    """Settings of the test's own: a -d or -o given here is saved, and must not reach
    the other tests' (session-wide) settings."""
    return {"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_STATE_HOME": str(tmp_path / "state")}


def test_a_refresh_that_changes_nothing_sends_almost_nothing(tmp_path: Path) -> None:
    # 1,000 domains of the test driver all read the same figures every second: round 1
    # rewrote the whole table each refresh (12 KB a second at 120x35; virt-top: 1.7 KB).
    # Sorted by name: the test driver's CPU time is its wall clock, so on a busy machine
    # the %CPU of each domain wobbles around 100.0 and a CPU sort would really reorder.
    uri = build_node(tmp_path, 1000)
    argv = [*VIRTUI, "-c", uri, "-d", "1", "-o", "name"]
    figures = run_console(
        argv, marker=b"virtui", filled=b"vm0", warmup_s=8, window_s=6, env=_own_settings(tmp_path)
    )
    assert figures.filled_s == figures.filled_s, "the table never showed a domain"
    assert figures.bytes_per_refresh < 600, figures.output[-2000:]


def test_the_header_is_drawn_before_the_libraries_load(tmp_path: Path) -> None:
    uri = build_node(tmp_path, 10)
    argv = [*VIRTUI, "-c", uri, "-d", "1"]
    figures = run_console(argv, marker=b"vm0", warmup_s=3, window_s=1, env=_own_settings(tmp_path))
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


def test_moving_the_cursor_repaints_the_two_rows_and_the_graph_title_only(
    fleet_uri: str, tmp_path: Path
) -> None:
    # The whole CPU graph panel (about 2.4 KB) was repainted whenever its title or
    # subtitle changed: on real guests, each second (the top row's domain and its vCPU
    # figures change). Now a title is repainted where its text is, like any changed cell.
    argv = [*VIRTUI, "-c", fleet_uri, "-d", "60", "-o", "name"]
    env = _own_settings(tmp_path)
    with PtyConsole(argv, env=env) as console:
        console.read_until(b"web02")
        console.send(b"jjj")  # from build01 down to web01
        console.read_until(b"CPU test/web01")
        console.read_quiet()
        console.send(b"j")  # to web02: as many vCPUs, so the graph keeps its axis
        sent = console.read_until(b"CPU test/web02") + console.read_quiet()
    assert b"db01" not in sent and b"\xe2\x94\x82" not in sent, sent  # nor rows nor sides
    assert len(sent) < 900, sent


def _trading_places(path: Path, polls: int) -> str:
    """A recording of two one-vCPU guests, 1 s apart, that trade places each second:
    30% and 20% of a CPU, then the other way round; above them a steady busy guest
    (90%), where the cursor settles (it stays on its domain, not on the top row)."""
    host = HostInfo("h", "test:///h", "h", "QEMU", 2, 4 << 20)
    spent = {"busy": 0, "guest-a": 0, "guest-b": 0}
    recorded = []
    for second in range(polls):
        if second:
            spent["busy"] += 900_000_000
        for name, share in (("guest-a", 3), ("guest-b", 2)):
            if second:
                spent[name] += (share if second % 2 else 5 - share) * 100_000_000
        samples = tuple(
            DomainSample(
                DomainKey("h", name),
                name,
                DomainState.RUNNING,
                1,
                1 << 20,
                1 << 20,
                10**10 + spent[name],
                run_id=1,
            )
            for name in spent
        )
        recorded.append(HostPoll(host, second * 1_000_000_000, 1e9 + second, samples))
    save_recording(recorded, path)
    return f"replay://{path}"


def test_rows_that_trade_places_send_only_the_characters_that_differ(tmp_path: Path) -> None:
    # Idle guests sorted by CPU trade places every second. Each row that changed was
    # sent from its first changed cell to its last, the name to the CPU time (about
    # 150 bytes a row with its colour codes); curses, and now virtui, send "a" and "b".
    uri = _trading_places(tmp_path / "rec.json", polls=60)
    argv = [*VIRTUI, "-c", uri, "-d", "1", "-o", "cpu"]
    env = _own_settings(tmp_path)
    figures = run_console(
        argv, marker=b"virtui", filled=b"guest-b", warmup_s=4, window_s=6, env=env
    )
    assert figures.filled_s == figures.filled_s, "the table never showed the guests"
    window = bytes(figures.output[-int(figures.bytes_per_refresh * 6) :])
    assert b"running" not in window, window  # the letters that differ, not the whole row
    assert figures.bytes_per_refresh < 600, (figures.bytes_per_refresh, window)
