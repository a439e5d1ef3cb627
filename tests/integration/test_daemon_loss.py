"""Three hosts on real libvirt daemons: one dies and comes back; the others carry on."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import pytest

from tests.integration.daemons import Daemon, daemons_available
from tests.requirements import require
from tests.tui.helpers import host_status, keep_updating, wait_for
from virtui.backends.libvirt.backend import keepalive_window
from virtui.config.settings import Settings
from virtui.model import DomainState, HostStatus
from virtui.tui.app import VirtuiApp


async def _all_connected(app: VirtuiApp, names: list[str]) -> None:
    await wait_for(lambda: all(host_status(app, n) is HostStatus.CONNECTED for n in names), 15)


@pytest.fixture
def three_daemons() -> Iterator[list[Daemon]]:
    require(daemons_available(), "run libvirt daemons")
    daemons = [Daemon() for _ in range(3)]
    try:
        for daemon in daemons:
            daemon.start()
        yield daemons
    finally:
        for daemon in daemons:
            daemon.remove()


async def test_killed_daemon_shows_lost_others_keep_updating_and_it_comes_back(
    three_daemons: list[Daemon],
) -> None:
    app = VirtuiApp(Settings(uris=[d.uri for d in three_daemons], delay=0.5))
    names = ["test", "test#2", "test#3"]
    async with app.run_test(size=(120, 30)):
        await _all_connected(app, names)
        three_daemons[1].kill()  # SIGKILL: no goodbye on the wire
        down = (HostStatus.LOST, HostStatus.RECONNECTING)
        await wait_for(lambda: host_status(app, "test#2") in down, timeout=10)

        await keep_updating(app, ["test", "test#3"])  # while test#2 is down
        # Its domain is still listed, as unknown, not silently removed.
        lost = [s for s in app.store.all() if s.sample.key.host == "test#2"]
        assert [s.sample.state for s in lost] == [DomainState.UNKNOWN]

        await wait_for(lambda: host_status(app, "test#2") is HostStatus.RECONNECTING, timeout=5)
        assert "retry in" in app.store.hosts["test#2"].message
        three_daemons[1].start()  # back, and nobody touches a key
        await wait_for(lambda: host_status(app, "test#2") is HostStatus.CONNECTED, timeout=40)
        back = [s for s in app.store.all() if s.sample.key.host == "test#2"]
        assert [s.sample.state for s in back] == [DomainState.RUNNING]


async def test_frozen_daemon_is_lost_within_the_keepalive_window_and_blocks_nobody(
    three_daemons: list[Daemon],
) -> None:
    # SIGSTOP: the socket stays open but nothing answers, as when a link is cut. Real
    # network namespaces would be the other way to cut a link; this needs none.
    app = VirtuiApp(Settings(uris=[d.uri for d in three_daemons], delay=0.5))
    names = ["test", "test#2", "test#3"]
    async with app.run_test(size=(120, 30)):
        await _all_connected(app, names)
        frozen = three_daemons[0]
        assert frozen.process is not None
        frozen.process.send_signal(signal.SIGSTOP)
        try:
            started = time.monotonic()
            for _ in range(3):  # the others go on updating, round after round
                await keep_updating(app, ["test#2", "test#3"], timeout=3)
            down = (HostStatus.LOST, HostStatus.RECONNECTING)
            await wait_for(lambda: host_status(app, "test") in down, timeout=30)
            lost_after = time.monotonic() - started
            assert lost_after <= keepalive_window() + 5
        finally:
            frozen.process.send_signal(signal.SIGCONT)
        await wait_for(lambda: host_status(app, "test") is HostStatus.CONNECTED, timeout=40)
