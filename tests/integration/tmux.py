"""virtui driven as a person would, through tmux: the commands the tmux tests share."""

from __future__ import annotations

import shutil
import subprocess
import time

from tests.requirements import require


def require_tmux() -> None:
    """Skip without tmux, except in CI, which must have it."""
    require("" if shutil.which("tmux") else "tmux is not installed (Debian: tmux)", "run tmux")


def tmux(server: str, *args: str) -> str:
    """Run a tmux command on a private server; its output."""
    return subprocess.run(
        ["tmux", "-L", server, *args], capture_output=True, text=True, check=True
    ).stdout


def wait_for_text(server: str, text: str, timeout: float = 20.0, every: float = 0.2) -> str:
    """The pane once ``text`` shows in it; fails with the pane after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pane = tmux(server, "capture-pane", "-p")
        if text in pane:
            return pane
        time.sleep(every)
    raise AssertionError(f"{text!r} never appeared; the pane shows:\n{pane}")
