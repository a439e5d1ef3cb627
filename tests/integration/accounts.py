"""OS accounts for the team tests: made, used through runuser, and removed with every
process they still run. Root only."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def run(*command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """A command's outcome, text, within two minutes."""
    return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)


def python_for(user: str) -> tuple[str, dict[str, str]]:
    """A Python the other account may run with this virtui importable: this one, or
    (when it lives under root's private home, as with pyenv) the system's of the same
    version with this environment's packages and sources on its path."""
    if run("runuser", "-u", user, "--", sys.executable, "-c", "", check=False).returncode == 0:
        return sys.executable, {}
    system = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    packages = next(p for p in sys.path if p.endswith("site-packages"))
    source = str(Path(__file__).resolve().parents[2] / "src")
    return system, {"PYTHONPATH": f"{source}:{packages}"}


def remove_user(user: str) -> None:
    """Gone, with every process it still runs (its virtui may be closing)."""
    run("pkill", "-KILL", "-u", user, check=False)
    deadline = time.monotonic() + 10
    while run("pgrep", "-u", user, check=False).returncode == 0:
        assert time.monotonic() < deadline, f"processes of {user} do not end"
        time.sleep(0.1)
    run("userdel", "--force", user, check=False)


def start_tui_as(server: str, user: str, env: dict[str, str], python: str, domain: str) -> None:
    """``user``'s own virtui in a tmux server of its own (160x40), in ``env`` only, on
    its review desk once ``domain`` shows: a team's desk opens on "for me"."""
    from tests.integration.tmux import tmux, wait_for_text

    settings = " ".join(f"{k}={v}" for k, v in env.items())
    tmux(
        server,
        "new-session",
        "-d",
        "-x",
        "160",
        "-y",
        "40",
        f"runuser -u {user} -- env -i {settings} {python} -m virtui",
    )
    wait_for_text(server, domain, timeout=30)
    tmux(server, "send-keys", "5")
    wait_for_text(server, "filter: for me", timeout=30)
