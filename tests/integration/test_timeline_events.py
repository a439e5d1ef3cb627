"""Events from real QEMU guests reach the logs timeline in order, with the right kind.

Both under libvirt's embedded QEMU driver and under a hand-started libvirtd; a guest
whose QEMU is killed from outside shows as crashed.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.integration.daemons import Daemon
from tests.integration.guests import define_guest, remove_test_guests
from tests.tui.helpers import wait_for
from virtui.backends.libvirt.backend import LibvirtBackend
from virtui.backends.libvirt.demo import EmbeddedDemo
from virtui.config.settings import Settings
from virtui.model import DomainAction, DomainKey, LogEntry, Severity
from virtui.monitor.sessions import open_sessions
from virtui.screens.logs import LogsScreen
from virtui.tui.app import VirtuiApp


def _qemu_pid(name: str) -> int:
    """The QEMU process of guest ``name``, found in /proc (independent of libvirt)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if f"guest={name}".encode() in b",".join(cmdline):
                return int(entry.name)
    raise AssertionError(f"no QEMU process for {name}")


@pytest.fixture(params=["embedded", "daemon"])
def host(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, libvirt.virConnect]]:
    """(URI, a plain connection for arranging things) of either kind of host."""
    if request.param == "embedded":
        demo: EmbeddedDemo = request.getfixturevalue("embedded_demo")
        conn: libvirt.virConnect = request.getfixturevalue("embed_conn")
        yield demo.uri, conn
    else:
        daemon: Daemon = request.getfixturevalue("storage_daemon")
        conn = request.getfixturevalue("storage_check")
        yield daemon.qemu_uri, conn
        remove_test_guests(conn)


def _lines(app: VirtuiApp, name: str) -> list[LogEntry]:
    return [entry for entry in app.timeline.entries if entry.domain == name]


async def test_lifecycle_events_and_a_crash_appear_in_order(
    host: tuple[str, libvirt.virConnect], tmp_path: Path
) -> None:
    uri, conn = host
    app = VirtuiApp(
        Settings(uris=[uri], names={uri: "h"}),
        sessions=open_sessions([uri], names={uri: "h"}),
        auto_poll=False,
    )
    async with app.run_test(size=(150, 40)) as pilot:
        await app.poll_now()
        await pilot.press("4")
        await wait_for(lambda: isinstance(app.screen, LogsScreen))
        screen = app.screen
        assert isinstance(screen, LogsScreen)

        dom = define_guest(conn, tmp_path)
        name = dom.name()
        key = DomainKey("h", dom.UUIDString())
        backend = app.ports.domains("h")
        assert backend is not None
        await wait_for(lambda: [e.kind for e in _lines(app, name)] == ["defined"], 30)
        for action in (DomainAction.START, DomainAction.SUSPEND, DomainAction.RESUME):
            backend.act(key.uuid, action)
        await wait_for(lambda: len(_lines(app, name)) >= 5, 30)
        os.kill(_qemu_pid(name), signal.SIGKILL)
        await wait_for(lambda: any(e.kind == "crashed" for e in _lines(app, name)), 30)

        lines = _lines(app, name)
        # libvirt's QEMU driver reports a start as "resumed" (the vCPUs it created paused
        # begin to run) and then "started", in that order.
        assert [(e.kind, e.detail) for e in lines[:5]] == [
            ("defined", "added"),
            ("resumed", "unpaused"),
            ("started", "booted"),
            ("suspended", "paused"),
            ("resumed", "unpaused"),
        ]
        crash = lines[5]
        assert crash.kind == "crashed" and crash.severity is Severity.ERROR
        assert "stopped unexpectedly" in crash.detail
        assert [e.wall_time for e in lines] == sorted(e.wall_time for e in lines)
        # The same lines, in the same order, are on the screen.
        shown = [e for e in screen.view.entries if e.domain == name]
        assert shown == lines


def test_two_backends_on_one_embedded_root_both_get_events(
    embedded_demo: EmbeddedDemo, embed_conn: libvirt.virConnect, tmp_path: Path
) -> None:
    """libvirt refuses a second registration on the shared connection ("already
    tracked"): virtui registers once per connection and fans events out."""
    # Events of this test's own guests only: an earlier test's clean-up on the shared
    # root can still be on its way.
    heard: dict[str, list[tuple[str, str]]] = {"a": [], "b": []}
    backends = []
    for name in heard:
        backend = LibvirtBackend(embedded_demo.uri, name)
        backend.set_event_sink(
            lambda event, name=name: heard[name].append((event.uuid, event.kind))  # type: ignore[misc]
        )
        backend.connect()
        backends.append(backend)

    def got(uuids: set[str]) -> dict[str, list[str]]:
        return {
            name: [kind for uuid, kind in events if uuid in uuids] for name, events in heard.items()
        }

    try:
        first = define_guest(embed_conn, tmp_path).UUIDString()
        deadline = time.monotonic() + 10
        while not all(got({first}).values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert got({first}) == {"a": ["defined"], "b": ["defined"]}
        backends.pop(0).close()  # the first leaves: the second still hears
        second = define_guest(embed_conn, tmp_path).UUIDString()
        deadline = time.monotonic() + 10
        while not got({second})["b"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert got({first, second}) == {"a": ["defined"], "b": ["defined", "defined"]}
    finally:
        for backend in backends:
            backend.close()
