"""A person at a Linux console: tmux with TERM=linux, every screen by its key, quit."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.nodes import SMALL_FLEET, STORAGE_POOLS, write_node


def _tmux(server: str, *args: str) -> str:
    return subprocess.run(
        ["tmux", "-L", server, *args], capture_output=True, text=True, check=True
    ).stdout


def _wait_for(server: str, text: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pane = _tmux(server, "capture-pane", "-p")
        if text in pane:
            return pane
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared; the pane shows:\n{pane}")


@pytest.mark.parametrize("term", ["linux", "screen-256color", "xterm-256color"])
def test_every_screen_by_key_then_quit(tmp_path: Path, term: str) -> None:
    if shutil.which("tmux") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have tmux (Debian: tmux)")
        pytest.skip("tmux is not installed")
    node = write_node(tmp_path / "node.xml", SMALL_FLEET, pools=STORAGE_POOLS)
    server = f"virtui-test-{os.getpid()}-{term}"
    done = tmp_path / "exit-code"
    command = (
        f"TERM={term} XDG_CONFIG_HOME={tmp_path}/config XDG_STATE_HOME={tmp_path}/state "
        f"{sys.executable} -m virtui -c test://{node}; echo $? > {done}"
    )
    _tmux(server, "new-session", "-d", "-x", "80", "-y", "24", command)
    try:
        pane = _wait_for(server, "web01")
        pane = _wait_for(server, "2 vCPU")  # the graph's frame is drawn
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
            _tmux(server, "send-keys", key)
            _wait_for(server, text)
        _tmux(server, "send-keys", ":")
        _tmux(server, "send-keys", "-l", "host")
        _tmux(server, "send-keys", "Enter")
        _wait_for(server, "hosts 1/1 connected")
        _tmux(server, "send-keys", "q")
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
    if shutil.which("tmux") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have tmux (Debian: tmux)")
        pytest.skip("tmux is not installed")
    node = write_node(tmp_path / "node.xml", SMALL_FLEET)
    server = f"virtui-test-{os.getpid()}-nocolor"
    command = (
        f"NO_COLOR=1 TERM=xterm-256color XDG_CONFIG_HOME={tmp_path}/config "
        f"XDG_STATE_HOME={tmp_path}/state {sys.executable} -m virtui -c test://{node}"
    )
    _tmux(server, "new-session", "-d", "-x", "100", "-y", "30", command)
    try:
        _wait_for(server, "web01")
        _wait_for(server, "2 vCPU")
        pane = _tmux(server, "capture-pane", "-e", "-p")
        colours = re.findall(r"\x1b\[[0-9;]*(?:38|48);[25];[0-9;]*m", pane)
        assert colours == [], colours[:5]  # not even greys
        assert re.search(r"\x1b\[[0-9;]*\b7m", pane), "the cursor row is not reversed"
        _tmux(server, "send-keys", "q")
    finally:
        subprocess.run(["tmux", "-L", server, "kill-server"], capture_output=True)


def test_at_80x24_the_header_shows_filter_marks_and_mode(tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have tmux (Debian: tmux)")
        pytest.skip("tmux is not installed")
    node = write_node(tmp_path / "node.xml", SMALL_FLEET)
    server = f"virtui-test-{os.getpid()}-narrow"
    command = (
        f"TERM=xterm-256color XDG_CONFIG_HOME={tmp_path}/config "
        f"XDG_STATE_HOME={tmp_path}/state {sys.executable} -m virtui -c test://{node}"
    )
    _tmux(server, "new-session", "-d", "-x", "80", "-y", "24", command)
    try:
        _wait_for(server, "web01")
        _tmux(server, "send-keys", "/")
        _tmux(server, "send-keys", "-l", "web")
        _tmux(server, "send-keys", "Enter")
        _wait_for(server, "filter 'web'")
        _tmux(server, "send-keys", "Space")
        header = _wait_for(server, "1 marked").splitlines()[0]
        assert "1 marked" in header and "filter 'web'" in header
        assert "Irix" in header  # the mode, whole or shortened, is never cut
        _tmux(server, "send-keys", "q")
    finally:
        subprocess.run(["tmux", "-L", server, "kill-server"], capture_output=True)
