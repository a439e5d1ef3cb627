"""ConfigHistory against real git: commits land, secrets do not, nothing is lost when
two writers commit at once."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from virtui.review.history import ConfigHistory, object_path

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

XML = "<domain>\n  <name>web</name>\n  <graphics type='vnc' passwd='hunter2'/>\n</domain>"


def test_a_commit_holds_the_file_without_its_secrets(tmp_path: Path) -> None:
    history = ConfigHistory.init(tmp_path / "config.git")
    path = object_path("h1", "web")
    first = history.commit(path, XML, "h1/web: first\n", "alice@jump")
    assert first and history.latest(path) is not None
    assert "hunter2" not in (history.latest(path) or "") and "(redacted)" in (
        history.latest(path) or ""
    )
    assert history.commit(path, XML, "h1/web: again\n", "alice@jump") == ""  # nothing new
    (version,) = history.log(path)
    assert (version.commit, version.author, version.email) == (first, "alice", "alice@jump")


def test_writers_at_once_lose_no_commit(tmp_path: Path) -> None:
    history = ConfigHistory.init(tmp_path / "config.git")
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            history.commit(
                object_path("h1", f"vm{n}"),
                f"<domain><name>vm{n}</name></domain>",
                f"h1/vm{n}: made\n",
                f"user{n}@jump",
            )
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(history.latest(object_path("h1", f"vm{n}")) for n in range(6))
