"""The console survives a host that freezes and resumes, whatever screen is open: the real
TUI in tmux against a hand-started libvirtd that is SIGSTOPped until keepalive gives up,
then SIGCONTed, round after round.

Before the fix, libvirt 9.0's RPC client crashed the process (SIGSEGV in its I/O loop)
when keepalive closed a connection that two or more threads were waiting on: the
storage and networks screens read on their own threads beside the poll.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.daemons import Daemon, daemons_available
from tests.integration.tmux import require_tmux, tmux
from tests.requirements import require

# -k 2 -K 4: a frozen host is lost within 10 s (the default 5 s x 3 makes a round take
# half a minute); calls pile up on the frozen connection meanwhile, as they do in use.
# Before the fix this crashed the first round, at the moment the host resumed.
KEEPALIVE = ("-k", "2", "-K", "4")
STILL_FROZEN_S = 4.0
RECONNECT_WAIT_S = 90.0
ROUNDS = 10  # in a row, through every screen (storage, networks and domains twice)
# The screens a person works in, and one with a dialog open (help over the domains):
# the keys that open it and what shows once it is open.
SCREENS = {
    "storage": (["3"], "storage:"),
    "networks": (["6"], "networks:"),
    "domains": (["1"], "running /"),
    "hosts": (["2"], "Name       State"),
    "logs": (["4"], "logs:"),
    "review": (["5"], "review:"),
    "dialog": (["1", "?"], "— keys"),
}


@pytest.fixture
def daemon() -> Iterator[Daemon]:
    require(daemons_available(), "start libvirtd")
    require_tmux()
    daemon = Daemon(private_config=True)
    daemon.start()
    yield daemon
    daemon.thaw()
    daemon.remove()


class Console:
    """virtui in a tmux pane; its exit status lands in a file, its log in the state
    folder (where the host's losses and returns are written, whatever screen is open)."""

    def __init__(self, daemon: Daemon, tmp_path: Path) -> None:
        self.daemon = daemon
        self.server = f"vt-freeze-{os.getpid()}"
        self.status = tmp_path / "status"
        self.log = tmp_path / "state" / "virtui" / "virtui.log"
        env = {
            "XDG_STATE_HOME": str(tmp_path / "state"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
        }
        argv = [sys.executable, "-m", "virtui", *KEEPALIVE]
        argv += ["-c", daemon.qemu_uri, "-c", "test:///default"]
        command = f"{shlex.join(argv)}; echo $? > {self.status}; sleep 600"
        settings = [arg for name, value in env.items() for arg in ("-e", f"{name}={value}")]
        tmux(self.server, "new-session", "-d", "-x", "160", "-y", "45", *settings, command)

    def pane(self) -> str:
        return tmux(self.server, "capture-pane", "-p")

    def host_says(self) -> list[str]:
        """What the log says of the frozen host so far ("connected", "lost", ...)."""
        if not self.log.exists():
            return []
        lines = self.log.read_text(errors="replace").splitlines()
        return [line.split(" is ", 1)[1] for line in lines if "host localhost is " in line]

    def until(self, what: str, done: Callable[[], bool], timeout: float = 60.0) -> None:
        """Until ``done()``; fails at once if the app has ended."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.assert_alive()
            if done():
                return
            time.sleep(0.1)
        said = self.log.read_text(errors="replace").splitlines()[-40:] if self.log.exists() else []
        raise AssertionError(
            f"{what} never happened; the pane shows:\n{self.pane()}\n"
            "virtui's log ends:\n" + "\n".join(said) + "\n" + self.daemon.state()
        )

    def wait_for(self, text: str) -> None:
        self.until(f"{text!r} showing", lambda: text in self.pane())

    def assert_alive(self) -> None:
        if self.status.exists():
            raise AssertionError(
                f"virtui ended with status {self.status.read_text().strip()}:\n{self.pane()}"
            )

    def keys(self, *keys: str) -> None:
        for key in keys:
            tmux(self.server, "send-keys", key)

    def quit(self) -> str:
        """Press q; the exit status."""
        self.keys("q")
        deadline = time.monotonic() + 30
        while not self.status.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.status.read_text().strip() if self.status.exists() else "still running"

    def close(self) -> None:
        tmux(self.server, "kill-server")


def _said_more(console: Console, said: int) -> Callable[[], bool]:
    return lambda: len(console.host_says()) > said


def _back(console: Console, daemon: Daemon) -> Callable[[], bool]:
    """Whether the console says the host is connected again. libvirt 9.0's daemon itself
    crashes now and then when clients that gave up during the freeze are dropped as it
    resumes (the kernel logs "libvirtd: segfault at 0"; seen in CI); systemd would start
    it again (Restart=on-failure), and so does this, and the console must come back to it."""

    def back() -> bool:
        assert daemon.process is not None
        if daemon.process.poll() is not None:
            print(f"libvirtd ended ({daemon.process.returncode}); started again", flush=True)
            daemon.start()
        return console.host_says()[-1].startswith("connected")

    return back


def test_a_host_that_freezes_and_resumes_never_takes_the_console_down(
    daemon: Daemon, tmp_path: Path
) -> None:
    assert daemon.process is not None
    console = Console(daemon, tmp_path)
    try:
        console.wait_for("hosts 2/2")
        order = list(SCREENS)
        for round_ in range(ROUNDS):
            screen = order[round_ % len(order)]
            if "— keys" in console.pane():  # the dialog of the round before
                console.keys("Escape")
                console.until("the dialog closing", lambda: "— keys" not in console.pane())
            keys, shown = SCREENS[screen]
            console.keys(*keys)
            console.wait_for(shown)
            lost = _said_more(console, len(console.host_says()))
            os.kill(daemon.process.pid, signal.SIGSTOP)
            try:  # until keepalive gives up on the frozen host
                console.until("the host lost", lost)
                # It stays frozen a while: the app reconnects meanwhile and its screens go
                # on reading (the scenario's length, not a wait for an event).
                time.sleep(STILL_FROZEN_S)
            finally:
                os.kill(daemon.process.pid, signal.SIGCONT)
            # Back within its reconnect schedule (retries double up to 30 s): two of them
            # on a loaded machine.
            console.until("the host back", _back(console, daemon), timeout=RECONNECT_WAIT_S)
            assert shown in console.pane()  # still on that screen
            print(f"round {round_ + 1}, {screen} open: survived", flush=True)
        console.keys("1")
        console.wait_for("running /")
        assert console.quit() == "0"
    finally:
        console.close()
