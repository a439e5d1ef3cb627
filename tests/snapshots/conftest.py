"""Snapshot tests: files at fixed paths, removed when the run ends.

A snapshot shows URIs (the hosts screen), so the files behind them live at the same path
on every machine. Every snapshot test runs on one xdist worker (``xdist_group``), so no
other worker writes or removes these folders while one of them is using them.
"""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input

_MADE: set[Path] = set()


def fixed_folder(path: Path) -> Path:
    """``path``, created; it is removed when the test session ends."""
    path.mkdir(exist_ok=True)
    _MADE.add(path)
    return path


# Every test session that uses the folders holds this lock shared; the last one out
# (the one that can take it exclusively) removes them. Another session on the same
# machine, or the clock test's inner run, never loses them in the middle of a test.
LOCK = Path("/tmp/virtui-snapshot-folders.lock")


@pytest.fixture(autouse=True, scope="session")
def _remove_fixed_folders() -> Iterator[None]:
    with LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        yield
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another session still uses them: it removes them when it is done
        for path in _MADE:
            shutil.rmtree(path, ignore_errors=True)
        LOCK.unlink(missing_ok=True)


@pytest.fixture(autouse=True)
def _steady_input_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    """A focused Input's cursor blinks every 0.5 s: a snapshot taken later than that
    after the focus (a loaded machine, seen once in the clock test's run a month ahead)
    caught it hidden. In a snapshot it stays shown, as it is when the focus lands."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.xdist_group("snapshots"))
