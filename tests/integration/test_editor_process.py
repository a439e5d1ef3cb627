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

import libvirt
import pytest

from tests.fixtures.nodes import SMALL_FLEET, write_node
from tests.integration.daemons import Daemon
from tests.integration.guests import define_guest, remove_test_guests
from virtui.monitor.hostports import HostPorts
from virtui.monitor.sessions import open_sessions
from virtui.monitor.store import DomainStore
from virtui.review.desk import ReviewDesk, ReviewError, ReviewRules
from virtui.review.model import State
from virtui.review.ops import SetMemory
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


def _virtui_in_a_terminal(
    tmp_path: Path, editor: Path, *args: str
) -> tuple[subprocess.Popen[bytes], int, list[bytes]]:
    """virtui on a pty of its own (120x30) with ``editor`` as $EDITOR; returns the process,
    the pty's master side and the list its output is collected into."""
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
        [sys.executable, "-m", "virtui", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    seen: list[bytes] = []
    threading.Thread(target=_drain, args=(master, seen), daemon=True).start()
    return process, master, seen


def test_edit_xml_in_the_editor_drafts_a_change(tmp_path: Path) -> None:
    uri = f"test://{write_node(tmp_path / 'fleet.xml', SMALL_FLEET)}"
    marker = tmp_path / "edited"
    editor = tmp_path / "editor.sh"
    editor.write_text(EDITOR.format(marker=marker))
    editor.chmod(0o755)
    process, master, seen = _virtui_in_a_terminal(tmp_path, editor, "-c", uri)
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


RESOLVER = """#!/bin/sh
python3 - "$1" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
open(path, "w").write(
    re.sub(r"<<<<<<< proposal\\n(.*?)=======\\n.*?>>>>>>> live\\n", r"\\1", text, flags=re.S)
)
PY
touch {marker}
"""


def test_e_on_the_desk_resolves_a_conflict_in_the_editor(
    storage_daemon: Daemon, storage_check: libvirt.virConnect, tmp_path: Path
) -> None:
    uri = storage_daemon.qemu_uri
    dom = define_guest(storage_check, tmp_path)
    store_path = tmp_path / "state" / "virtui" / "reviews.db"
    sessions = open_sessions([uri], names={uri: "h"})
    sessions[0].backend.connect()
    store = ReviewStore(store_path)
    desk = ReviewDesk(store, HostPorts(lambda: sessions, DomainStore()), ReviewRules())
    try:
        change = desk.draft("h", dom.UUIDString(), "48M", [SetMemory(48 * 1024, 48 * 1024)])
        xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        theirs = xml.replace(">32768</currentMemory>", ">40960</currentMemory>").replace(
            ">32768</memory>", ">40960</memory>"
        )
        storage_check.defineXML(theirs)  # the same lines, changed outside the desk
        with pytest.raises(ReviewError, match="conflicts"):
            desk.rebase(change.id)
        assert desk._get(change.id).state is State.CONFLICTED
    finally:
        sessions[0].close()
        store.close()
    marker = tmp_path / "resolved"
    editor = tmp_path / "resolve.sh"
    editor.write_text(RESOLVER.format(marker=marker))
    editor.chmod(0o755)
    (tmp_path / "config" / "virtui").mkdir(parents=True)
    (tmp_path / "config" / "virtui" / "config.toml").write_text(
        f'[[hosts]]\nname = "h"\nuri = "{uri}"\n'
    )
    process, master, seen = _virtui_in_a_terminal(tmp_path, editor)
    try:
        deadline = time.monotonic() + 30
        # The state column says CONFLICTED; a line that says "conflicted" may be cut.
        while b"conflicted" not in b"".join(seen).lower() and time.monotonic() < deadline:
            if b"virtui" in b"".join(seen):
                os.write(master, b"5")
            time.sleep(0.5)
        assert b"conflicted" in b"".join(seen).lower(), "the desk did not show the conflict"
        os.write(master, b"e")
        deadline = time.monotonic() + 30
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marker.exists(), "the editor did not run"
        store = ReviewStore(store_path)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                resolved = store.get(change.id)
                if resolved is not None and resolved.state is State.DRAFT:
                    break
                time.sleep(0.1)
        finally:
            store.close()
        assert resolved is not None and resolved.state is State.DRAFT
        assert ">49152</currentMemory>" in resolved.proposed_xml  # the proposal's side
        assert ">40960</currentMemory>" in resolved.base_xml  # on the live configuration
        assert "<<<<<<<" not in resolved.proposed_xml
        os.write(master, b"q")
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
        remove_test_guests(storage_check)
