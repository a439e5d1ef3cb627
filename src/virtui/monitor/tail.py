"""Following a growing log file from a thread, like ``tail -f``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

FIRST_BYTES = 256 * 1024  # how much of the end of the file is delivered at first
POLL_S = 0.25


def follow(
    path: Path,
    lines: Callable[[list[str]], None],
    say: Callable[[str], None],
    stop: threading.Event,
) -> None:
    """Deliver the end of ``path`` and then every new complete line until ``stop``."""
    position: int | None = None
    identity: tuple[int, int] | None = None
    pending = b""
    waiting_said = False
    while not stop.is_set():
        try:
            status = path.stat()
        except OSError:
            if not waiting_said:
                say(f"{path} does not exist (yet): waiting for it")
                waiting_said = True
            stop.wait(POLL_S)
            continue
        if identity is not None and (status.st_dev, status.st_ino) != identity:
            say("the file was replaced: reading the new one")
            position, pending = 0, b""
        elif position is not None and status.st_size < position:
            say("the file was truncated: reading from its start")
            position, pending = 0, b""
        identity = (status.st_dev, status.st_ino)
        if position is None:
            position = max(0, status.st_size - FIRST_BYTES)
            skip_partial = position > 0
        else:
            skip_partial = False
        if status.st_size > position:
            with path.open("rb") as handle:
                handle.seek(position)
                data = handle.read(status.st_size - position)
            position += len(data)
            data = pending + data
            if skip_partial and b"\n" in data:
                data = data.split(b"\n", 1)[1]
            complete, _newline, pending = data.rpartition(b"\n")
            if _newline:
                lines(complete.decode("utf-8", errors="replace").split("\n"))
            else:
                pending = data
        stop.wait(POLL_S)
