"""``e`` on the domains screen: the real app suspends, runs $EDITOR, drafts a change."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

from tests.fixtures.nodes import SMALL_FLEET, write_node
from virtui.review.model import State
from virtui.review.store import ReviewStore

EDITOR = """#!/bin/sh
sed -i 's|</name>|</name><title>edited in the editor</title>|' "$1"
echo "$1" > {marker}
"""


def _drain(fd: int, seen: list[bytes]) -> None:
    try:
        while chunk := os.read(fd, 65536):
            seen.append(chunk)
    except OSError:
        pass  # the terminal closed


def test_edit_xml_in_the_editor_drafts_a_change(tmp_path: Path) -> None:
    uri = f"test://{write_node(tmp_path / 'fleet.xml', SMALL_FLEET)}"
    marker = tmp_path / "edited"
    editor = tmp_path / "editor.sh"
    editor.write_text(EDITOR.format(marker=marker))
    editor.chmod(0o755)
    env = {
        **os.environ,
        "EDITOR": str(editor),
        "VISUAL": "",
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "TERM": "xterm-256color",
    }
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "virtui", "-c", uri],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    seen: list[bytes] = []
    threading.Thread(target=_drain, args=(master, seen), daemon=True).start()
    try:
        deadline = time.monotonic() + 20
        while b"web01" not in b"".join(seen) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert b"web01" in b"".join(seen), "the app did not draw its table"
        os.write(master, b"e")
        deadline = time.monotonic() + 20
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        edited = Path(marker.read_text().strip())
        assert edited.parent == tmp_path / "state" / "virtui" / "edits"
        assert oct(edited.parent.stat().st_mode & 0o777) == "0o700"
        store = ReviewStore(tmp_path / "state" / "virtui" / "reviews.db")
        try:
            deadline = time.monotonic() + 20
            while not store.ids() and time.monotonic() < deadline:
                time.sleep(0.1)
            change = store.get(store.ids()[0])
        finally:
            store.close()
        assert change is not None and change.state is State.DRAFT
        assert change.title.endswith(": XML edit")
        assert "<title>edited in the editor</title>" in change.proposed_xml
        assert not edited.exists()  # the temporary copy (secure XML) is gone
        os.write(master, b"q")
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
