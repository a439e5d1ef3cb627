"""ConfigHistory against real git: commits land, secrets do not, nothing is lost when
two writers commit at once."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from virtui.review.history import ConfigHistory, HistoryError, merge_message, object_path
from virtui.review.model import ChangeRequest

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


def test_nothing_a_member_puts_in_the_repository_runs(tmp_path: Path) -> None:
    """A team's repository was the group's to write: its hooks and config must not make
    another member's virtui run a program. Hooks are never run; a config key beyond what
    git init writes stops git before it starts (an allow-list), and says which."""
    repo = tmp_path / "config.git"
    history = ConfigHistory.init(repo)
    path = object_path("h1", "web")
    first = history.commit(path, XML, "h1/web: first\n", "alice@jump")
    ran = tmp_path / "ran"
    script = repo / "planted.sh"
    script.write_text(f"#!/bin/sh\ntouch {ran}\n")
    script.chmod(0o755)
    for hook in ("reference-transaction", "post-commit", "pre-commit"):
        (repo / "hooks" / hook).symlink_to(script)
    second = history.commit(path, XML.replace("web", "www"), "h1/web: second\n", "bob@jump")
    assert first and second and "www" in history.diff(second, path)
    assert not ran.exists()  # hooks: never

    clean = (repo / "config").read_text()
    for planted in (
        f"[log]\n\tshowSignature = true\n[gpg]\n\tprogram = {script}\n",
        f"[core]\n\tfsmonitor = {script}\n",
        f"[diff]\n\texternal = {script}\n",
        f"[include]\n\tpath = {tmp_path / 'more'}\n",
        f"[core]\n\tpager = {script}\n",
    ):
        (repo / "config").write_text(clean + planted)
        with pytest.raises(HistoryError, match="may hold only what git init writes") as refused:
            history.log(path)
        key = planted.split("\n")[1].split("=")[0].strip().lower()
        assert key in str(refused.value) and "\n" not in str(refused.value)
        with pytest.raises(HistoryError):
            history.commit(path, XML, "h1/web: third\n", "bob@jump")
        assert not ran.exists()
    (repo / "config").write_text(clean)
    assert [v.commit for v in history.log(path)] == [second, first]


def test_a_commit_message_carries_the_users_words_with_no_raw_escape() -> None:
    change = ChangeRequest(
        7,
        "web: \x1b[31mred\x1b[0m title\nsecond line",
        "why\x07 it\nmatters",
        "alice@jump",
        0.0,
        "h1",
        "00000000-0000-4000-8000-000000000001",
        "web\x1b]0;owned\x07",
        "<domain/>",
        "b" * 64,
        "<domain/>",
        "p" * 64,
        [],
        [],
    )
    message = merge_message(change, "bob@jump")
    subject, _, body = message.partition("\n")
    assert "\x1b" not in message and "\x07" not in message
    assert subject.startswith("h1/web") and "red" in subject  # one line, words kept
    assert "matters" in body and "Merged-by: bob@jump" in body


def test_the_commit_hashes_what_it_publishes_not_the_secret() -> None:
    """A hash of the unredacted XML beside the redacted file was a password oracle: a
    word list found an eight-character VNC password from the repository alone."""
    import hashlib

    from virtui.review.secrets import redact

    proposed = XML.replace("hunter2", "hunter3")
    change = ChangeRequest(
        7, "t", "", "alice@jump", 0.0, "h1", "u", "web", XML, "b" * 64, proposed, "p" * 64, [], []
    )
    message = merge_message(change, "bob@jump")

    def digest(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    assert f"Base-SHA256: {digest(redact(XML))}" in message
    assert f"Proposed-SHA256: {digest(redact(proposed))}" in message
    assert digest(XML) not in message and digest(proposed) not in message
