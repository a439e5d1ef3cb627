"""Keep C-level stderr writes off the screen while the TUI runs.

libvirt and the helpers it forks write warnings straight to file descriptor 2, and fd 2
is the terminal Textual draws on. While the TUI runs, fd 2 points at the app's log file
and Textual gets the terminal through a duplicate descriptor.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from virtui.config.settings import private_file


@contextlib.contextmanager
def stderr_to_log(log_path: Path) -> Iterator[None]:
    """Send fd 2 to ``log_path`` and give Python's ``sys.__stderr__`` the terminal."""
    if not os.isatty(2):
        yield
        return
    try:
        private_file(log_path)
        log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND)
    except OSError as error:
        print(f"virtui: {log_path}: {error.strerror}; stderr is discarded", file=sys.stderr)
        log_fd = os.open(os.devnull, os.O_WRONLY)
    terminal_fd = os.dup(2)
    saved_stderr, saved_dunder = sys.stderr, sys.__stderr__
    terminal = os.fdopen(terminal_fd, "w", buffering=1, encoding="utf-8", errors="replace")
    try:
        os.dup2(log_fd, 2)
        sys.__stderr__ = terminal  # type: ignore[misc]  # Textual's driver draws there
        sys.stderr = terminal
        yield
    finally:
        sys.stderr = saved_stderr
        sys.__stderr__ = saved_dunder  # type: ignore[misc]
        # A terminal that went away (EIO) must not turn a clean exit into a traceback.
        with contextlib.suppress(OSError):
            terminal.flush()
        with contextlib.suppress(OSError):
            os.dup2(terminal.fileno(), 2)
        with contextlib.suppress(OSError):
            terminal.close()
        os.close(log_fd)
