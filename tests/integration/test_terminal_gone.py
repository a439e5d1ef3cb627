"""A console whose terminal goes away, or that is asked to stop, ends: whatever screen,
form, dialog, panel or editor is open. A dropped SSH session on a jump host left a
virtui spinning at 90% of a core for 50 minutes, deaf to SIGTERM."""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from benchmarks.console_run import spawn_on_pty

from tests.fixtures.nodes import SMALL_FLEET, write_node
from tests.integration.conftest import require_embedded_driver

# What to type to reach each state, and what is on screen once there.
STATES = {
    "domains": (b"", b"Irix"),
    "hosts": (b"2", b"Reconnect"),
    "storage": (b"3", b"Pool"),
    "logs": (b"4", b"virtui"),
    "help": (b"?", b"keys"),
    "palette": (b"\x10", b"Search"),  # ctrl+p
    "form": (b"o", b"Migrate"),
    "confirmation": (b"\x0b", b"Force off"),  # ctrl+k on the first domain
    "migrations panel": (b"J", b"igration"),
    "editor": (b"e", b"\x1b[?1049l"),  # the TUI leaves the screen to $EDITOR
}


class Terminal:
    """virtui on a pty of its own (120x35), as a terminal emulator runs it, with its
    output read as it comes, until ``freeze`` stops the reading (a frozen SSH link)."""

    def __init__(self, tmp_path: Path, *, demo: bool = False) -> None:
        first = write_node(tmp_path / "a.xml", SMALL_FLEET)
        second = write_node(tmp_path / "b.xml", SMALL_FLEET[:2])
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_STATE_HOME": str(tmp_path / "state"),
            "EDITOR": "sleep 600",
            "VISUAL": "",
        }
        argv = [sys.executable, "-m", "virtui", "-d", "0.5"]
        self.cache = ""
        if demo:  # real guests with serial consoles (its own demo root: a short path)
            self.cache = env["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="vt-", dir="/tmp")
            argv.append("--demo")
        else:
            argv += ["-c", f"test://{first}", "-c", f"test://{second}"]
        self.pid, self.fd = spawn_on_pty(argv, (120, 35), env)
        self.seen = bytearray()
        self._reading = threading.Event()
        self._reading.set()
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while self._reading.wait() and self.fd >= 0:
            try:
                if not select.select([self.fd], [], [], 0.1)[0]:
                    continue
                chunk = os.read(self.fd, 65536)
            except (OSError, ValueError):
                return  # closed
            with self._changed:
                self.seen += chunk
                self._changed.notify_all()

    def wait_for(self, marker: bytes, timeout: float = 30.0) -> None:
        with self._changed:
            found = self._changed.wait_for(lambda: marker in self.seen, timeout)
        assert found, f"{marker!r} never came: {bytes(self.seen[-300:])!r}"

    def wait_for_text(self, text: bytes, timeout: float = 30.0) -> None:
        """Until ``text`` is on screen, however the drawing splits it with styles."""

        def plain() -> bytes:
            return re.sub(rb"\x1b\[[0-9;?<>=]*[A-Za-z~]", b"", bytes(self.seen))

        with self._changed:
            found = self._changed.wait_for(lambda: text in plain(), timeout)
        assert found, f"{text!r} never showed: {plain()[-1500:]!r}"

    def freeze(self) -> None:
        """Stop reading: the program's writes fill the pty and then block."""
        self._reading.clear()

    def close(self) -> None:
        """The terminal goes away (a closed window, a killed tmux)."""
        fd, self.fd = self.fd, -1
        self._reading.set()
        os.close(fd)

    def gone_within(self, timeout: float) -> int | None:
        """The exit status once the process is gone, or None if it is still there."""
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.pid = -1
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)

    def end(self) -> None:
        if self.pid > 0:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        if self.fd >= 0:
            self.close()
        if self.cache:
            # A demo killed with SIGKILL leaves its guests' QEMUs spinning: end them.
            subprocess.run(["pkill", "-KILL", "-f", self.cache], check=False)
            shutil.rmtree(self.cache, ignore_errors=True)


CASES = [(state, "terminal closed") for state in STATES] + [
    ("form", "SIGHUP"),
    ("form", "SIGTERM"),
    ("editor", "SIGTERM"),
    ("confirmation", "SIGTERM"),
    ("form", "terminal frozen, SIGTERM"),
    ("domains", "terminal frozen, SIGHUP"),
]


@pytest.mark.parametrize(("state", "ending"), CASES, ids=[f"{s}-{e}" for s, e in CASES])
def test_the_console_ends_when_its_terminal_goes_or_it_is_told(
    tmp_path: Path, state: str, ending: str
) -> None:
    terminal = Terminal(tmp_path)
    try:
        terminal.wait_for(b"web01")  # up and polled: the first domain is selected
        keys, marker = STATES[state]
        terminal.seen.clear()
        os.write(terminal.fd, keys)
        terminal.wait_for(marker)
        if "frozen" in ending:
            terminal.freeze()
            # Polls every half second keep writing until the pty's buffer is full and
            # the app's writer blocks, as on an SSH link that stopped reading.
            time.sleep(5)
        if ending == "terminal closed":
            terminal.close()
        else:
            os.kill(terminal.pid, getattr(signal, ending.rpartition(" ")[2]))
        # The app leaves within its 2 s grace; the margin is for a loaded machine.
        status = terminal.gone_within(15)
        assert status is not None, f"still running in state {state} after {ending}"
        expected = 128 + (signal.SIGTERM if ending.endswith("SIGTERM") else signal.SIGHUP)
        assert status == expected
    finally:
        terminal.end()


@pytest.mark.embed
@pytest.mark.parametrize("ending", ["terminal closed", "SIGHUP", "SIGTERM"])
def test_the_text_console_ends_when_its_terminal_goes_or_it_is_told(
    tmp_path: Path, ending: str
) -> None:
    require_embedded_driver()
    terminal = Terminal(tmp_path, demo=True)
    try:
        # The demo booted (its progress names the guests too) and both hosts answer.
        terminal.wait_for_text(b"hosts 2/2", timeout=120)
        os.write(terminal.fd, b"/")
        terminal.wait_for_text(b"filter by name")
        os.write(terminal.fd, b"spin\r")  # the spinning guest, whose serial console echoes
        terminal.wait_for_text(b"(1 shown)")
        terminal.seen.clear()
        os.write(terminal.fd, b"c")
        terminal.wait_for(b"Escape character is ^]")  # the TUI handed the terminal over
        if ending == "terminal closed":
            terminal.close()
        else:
            os.kill(terminal.pid, getattr(signal, ending))
        status = terminal.gone_within(15)  # its 2 s grace, and the demo's teardown
        assert status is not None, f"the console is still running after {ending}"
        assert status == 128 + (signal.SIGTERM if ending == "SIGTERM" else signal.SIGHUP)
    finally:
        terminal.end()


def _threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def test_a_stray_sigcont_starts_no_second_input_thread_and_ctrl_z_still_works(
    tmp_path: Path,
) -> None:
    """The kernel sends SIGHUP then SIGCONT to a process group orphaned when the
    terminal's session leader exits; Textual resumed on every SIGCONT and started one
    more input thread (and writer) each time, all polling the dead terminal."""
    terminal = Terminal(tmp_path)
    try:
        terminal.wait_for(b"web01")
        time.sleep(3)  # polls at 0.5 s: the worker threads exist by now
        before = _threads(terminal.pid)
        for _ in range(5):
            os.kill(terminal.pid, signal.SIGCONT)
            time.sleep(0.3)
        time.sleep(1)
        assert _threads(terminal.pid) < before + 5  # ten more with the old handler
        # A real suspension still comes back: Ctrl+Z (SIGTSTP), then SIGCONT ("fg").
        os.kill(terminal.pid, signal.SIGTSTP)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{terminal.pid}/stat").read_text().split()[2] != "T":
            assert time.monotonic() < deadline, "Ctrl+Z did not stop it"
            time.sleep(0.05)
        terminal.seen.clear()
        os.kill(terminal.pid, signal.SIGCONT)
        terminal.wait_for(b"Irix")  # redrawn
        terminal.seen.clear()
        os.write(terminal.fd, b"?")
        terminal.wait_for(b"keys")  # and answering keys
    finally:
        terminal.end()
