"""Reading the small text files virtui is configured by, whatever is at their path."""

from __future__ import annotations

import os
import stat
from pathlib import Path

CONFIG_LIMIT = 1 << 20  # config.toml, settings.toml: a few KiB in practice
THEME_LIMIT = 64 << 10  # a theme is a few dozen lines


class UnreadableFile(OSError):
    """The file is not one to read: the message says why (not found is FileNotFoundError)."""


def read_small_text(path: Path, limit: int = CONFIG_LIMIT) -> str:
    """The UTF-8 text of ``path``, refusing what would block or flood a start: a FIFO,
    a device or a folder (opened without blocking, then checked), and a file over
    ``limit`` bytes. Raises FileNotFoundError, UnreadableFile or UnicodeDecodeError."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as error:
        raise UnreadableFile(f"{path}: {error.strerror}") from error
    with os.fdopen(handle, "rb") as file:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(f"{path}: not a regular file")
        data = file.read(limit + 1)
    if len(data) > limit:
        raise UnreadableFile(f"{path}: larger than {limit // 1024} KiB")
    return data.decode("utf-8")
