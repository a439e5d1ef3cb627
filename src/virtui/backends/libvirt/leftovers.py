"""Volumes an interrupted upload may have left on a host, remembered across runs.

An upload creates its volume first, then streams into it. When the host dies mid-way
the volume cannot be deleted then (there is no one to ask), and after the host comes
back it would look like any other volume. So an upload is written down here before it
starts and crossed out when it finished or its volume was deleted; what is left is
deleted when virtui next connects to that host (and shown as "incomplete upload" on the
storage screen until then). The file is 0600 in the state directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from pathlib import Path

from virtui.config.settings import private_dir, state_dir

_lock = threading.Lock()


def _path() -> Path:
    return state_dir() / "incomplete-uploads.json"


def _read() -> list[dict[str, str]]:
    try:
        data = json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []


def _write(entries: list[dict[str, str]]) -> None:
    folder = private_dir(_path().parent)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".uploads-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(entries, file)
        os.replace(temporary, _path())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def remember(uri: str, pool: str, volume: str) -> None:
    """An upload into ``pool``/``volume`` on ``uri`` is starting."""
    with _lock, contextlib.suppress(OSError):
        entries = _read()
        entry = {"uri": uri, "pool": pool, "volume": volume}
        if entry not in entries:
            _write([*entries, entry])


def forget(uri: str, pool: str, volume: str) -> None:
    """That upload finished, or its volume is gone."""
    with _lock, contextlib.suppress(OSError):
        entry = {"uri": uri, "pool": pool, "volume": volume}
        entries = _read()
        if entry in entries:
            _write([e for e in entries if e != entry])


def pending(uri: str) -> list[tuple[str, str]]:
    """(pool, volume) of the unfinished uploads on ``uri``."""
    with _lock:
        return [(e["pool"], e["volume"]) for e in _read() if e.get("uri") == uri]
