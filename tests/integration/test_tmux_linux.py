"""A person at a Linux console: tmux with TERM=linux, every screen by its key, quit."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.nodes import SMALL_FLEET, STORAGE_POOLS, write_node
from tests.integration.tmux import require_tmux, tmux, wait_for_text


@pytest.mark.parametrize("term", ["linux", "screen-256color", "xterm-256color"])
def test_every_screen_by_key_then_quit(tmp_path: Path, term: str) -> None:
    require_tmux()
    node = write_node(tmp_path / "node.xml", SMALL_FLEET, pools=STORAGE_POOLS)
    server = f"virtui-test-{os.getpid()}-{term}"
    done = tmp_path / "exit-code"
    command = (
        f"TERM={term} XDG_CONFIG_HOME={tmp_path}/config XDG_STATE_HOME={tmp_path}/state "
        f"{sys.executable} -m virtui -c test://{node}; echo $? > {done}"
    )
    tmux(server, "new-session", "-d", "-x", "80", "-y", "24", command)
    try:
        pane = wait_for_text(server, "web01")
        pane = wait_for_text(server, "vCPU, host 4 CPUs")  # the graph's frame is drawn
        if term == "linux":  # a VT draws neither braille nor rounded corners
            assert not any(0x2800 <= ord(c) <= 0x28FF for c in pane), pane
            assert not any(c in pane for c in "╭╮╰╯"), pane
        for key, text in (
            ("2", "hosts 1/1 connected"),
            ("3", "storage: 2 pools on 1 host"),
            ("4", "logs:"),
            ("5", "review:"),
            ("1", "domains 3 running / 5"),
        ):
            tmux(server, "send-keys", key)
            wait_for_text(server, text)
        tmux(server, "send-keys", ":")
        tmux(server, "send-keys", "-l", "host")
        tmux(server, "send-keys", "Enter")
        wait_for_text(server, "hosts 1/1 connected")
        tmux(server, "send-keys", "q")
        deadline = time.monotonic() + 20
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert done.read_text().strip() == "0"
        if term == "linux":
            saved = (tmp_path / "config" / "virtui" / "settings.toml").read_text()
            assert 'theme = "virtui-console"' in saved  # the 16-colour theme was chosen
    finally:
        subprocess.run(["tmux", "-L", server, "kill-server"], capture_output=True)


def test_no_color_means_no_colour_and_the_cursor_is_reversed(tmp_path: Path) -> None:
    require_tmux()
    node = write_node(tmp_path / "node.xml", SMALL_FLEET)
    server = f"virtui-test-{os.getpid()}-nocolor"
    command = (
        f"NO_COLOR=1 TERM=xterm-256color XDG_CONFIG_HOME={tmp_path}/config "
        f"XDG_STATE_HOME={tmp_path}/state {sys.executable} -m virtui -c test://{node}"
    )
    tmux(server, "new-session", "-d", "-x", "100", "-y", "30", command)
    try:
        wait_for_text(server, "web01")
        wait_for_text(server, "vCPU, host 4 CPUs")
        pane = tmux(server, "capture-pane", "-e", "-p")
        colours = re.findall(r"\x1b\[[0-9;]*(?:38|48);[25];[0-9;]*m", pane)
        assert colours == [], colours[:5]  # not even greys
        assert re.search(r"\x1b\[[0-9;]*\b7m", pane), "the cursor row is not reversed"
        tmux(server, "send-keys", "q")
    finally:
        subprocess.run(["tmux", "-L", server, "kill-server"], capture_output=True)


def test_at_80x24_the_header_shows_filter_marks_and_mode(tmp_path: Path) -> None:
    require_tmux()
    node = write_node(tmp_path / "node.xml", SMALL_FLEET)
    server = f"virtui-test-{os.getpid()}-narrow"
    command = (
        f"TERM=xterm-256color XDG_CONFIG_HOME={tmp_path}/config "
        f"XDG_STATE_HOME={tmp_path}/state {sys.executable} -m virtui -c test://{node}"
    )
    tmux(server, "new-session", "-d", "-x", "80", "-y", "24", command)
    try:
        wait_for_text(server, "web01")
        tmux(server, "send-keys", "/")
        tmux(server, "send-keys", "-l", "web")
        tmux(server, "send-keys", "Enter")
        wait_for_text(server, "filter 'web'")
        tmux(server, "send-keys", "Space")
        header = wait_for_text(server, "1 marked").splitlines()[0]
        assert "1 marked" in header and "filter 'web'" in header
        assert "Irix" in header  # the mode, whole or shortened, is never cut
        tmux(server, "send-keys", "q")
    finally:
        subprocess.run(["tmux", "-L", server, "kill-server"], capture_output=True)
