"""One refresh delay, one timer: the screens that read more than the poll (a domain's
detail, the physical CPUs view) read again after each of the app's polls, so a delay
changed with +/- applies to them too, and they keep no timer of their own."""

from __future__ import annotations

import libvirt

from tests.tui.helpers import screen_text, wait_for
from virtui.config.settings import Settings
from virtui.model.pcpu import PhysicalCpuReading
from virtui.screens.detail import DetailScreen
from virtui.screens.io_views import PhysicalCpusView
from virtui.tui.app import VirtuiApp


def _app() -> VirtuiApp:
    # A long delay: a screen with a timer of its own would not read again for 30 s.
    return VirtuiApp(Settings(uris=["test:///default"], delay=30.0), auto_poll=False)


def _connection(app: VirtuiApp) -> libvirt.virConnect:
    return app.sessions[0].backend._link.connection()  # type: ignore[attr-defined]


async def test_the_detail_reads_again_after_each_poll() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.poll_now()
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, DetailScreen))
        await wait_for(lambda: "running" in screen_text(app), timeout=10)
        _connection(app).lookupByName("test").suspend()  # behind virtui's back
        await app.poll_now()
        await wait_for(lambda: "paused" in screen_text(app), timeout=5)


async def test_the_physical_cpus_view_reads_again_after_each_poll() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.poll_now()
        reads = 0
        port = app.sessions[0].backend.domain_port()
        assert port is not None
        physical_cpus = port.physical_cpus

        def counted() -> PhysicalCpuReading:
            nonlocal reads
            reads += 1
            return physical_cpus()

        port.physical_cpus = counted  # type: ignore[method-assign]
        await pilot.press("exclamation_mark")
        await wait_for(lambda: isinstance(app.screen, PhysicalCpusView), timeout=5)
        await wait_for(lambda: reads == 1, timeout=5)
        await app.poll_now()
        await wait_for(lambda: reads == 2, timeout=5)
