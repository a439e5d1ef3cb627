"""A console program on a pseudo-terminal that a test types into and reads from."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time
from types import TracebackType

from benchmarks.console_run import spawn_on_pty


class PtyConsole:
    """``argv`` on a 120x35 pty (TERM=xterm-256color), as a terminal emulator runs it."""

    def __init__(
        self,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        size: tuple[int, int] = (120, 35),
    ) -> None:
        self._argv = argv
        self._env = {**os.environ, "TERM": "xterm-256color", **(env or {})}
        self._env.pop("COLUMNS", None)
        self._env.pop("LINES", None)
        self._size = size
        self._pid = -1
        self._fd = -1

    def __enter__(self) -> PtyConsole:
        self._pid, self._fd = spawn_on_pty(self._argv, self._size, self._env)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGKILL)
        os.waitpid(self._pid, 0)
        os.close(self._fd)

    def send(self, keys: bytes) -> None:
        """Type ``keys``."""
        os.write(self._fd, keys)

    def _read(self, timeout: float) -> bytes:
        if not select.select([self._fd], [], [], timeout)[0]:
            return b""
        try:
            return os.read(self._fd, 65536)
        except OSError:  # the program ended
            raise AssertionError("the console program ended") from None

    def read_until(self, marker: bytes, timeout: float = 30.0) -> bytes:
        """What the program writes up to and including the first ``marker``."""
        output = b""
        deadline = time.monotonic() + timeout
        while marker not in output:
            if time.monotonic() > deadline:
                raise AssertionError(f"{marker!r} never came; the last output: {output[-500:]!r}")
            output += self._read(0.1)
        return output

    def read_quiet(self, quiet: float = 0.5, timeout: float = 10.0) -> bytes:
        """What the program writes until it has written nothing for ``quiet`` seconds."""
        output = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = self._read(quiet)
            if not chunk:
                return output
            output += chunk
        raise AssertionError(f"the program never went quiet; the last output: {output[-500:]!r}")
