"""virt-top's views on ! @ #: interfaces, block devices and physical CPUs."""

from __future__ import annotations

import asyncio

import libvirt

from tests.tui.helpers import wait_for
from virtui.config.settings import Settings
from virtui.screens.io_views import BlockDevicesView, InterfacesView, PhysicalCpusView
from virtui.tui.app import VirtuiApp


def _app() -> VirtuiApp:
    return VirtuiApp(Settings(uris=["test:///default"], delay=0.5), auto_poll=False)


def _rows(app: VirtuiApp) -> list[list[str]]:
    table = app.screen.query_one("#view")
    return [[str(cell) for cell in table.get_row(key)] for key in table.rows]  # type: ignore[attr-defined]


async def _two_polls(app: VirtuiApp) -> None:
    await app.poll_now()
    await asyncio.sleep(0.3)
    await app.poll_now()


async def test_interfaces_view_has_one_row_per_nic_with_mac_bridge_and_rates() -> None:
    app = _app()
    async with app.run_test(size=(140, 30)) as pilot:
        await _two_polls(app)
        await pilot.press("at")
        assert type(app.screen) is InterfacesView
        [row] = _rows(app)
        assert row[:5] == ["test", "test", "testnet0", "aa:bb:cc:dd:ee:ff", "default"]
        assert row[5].endswith("K") and row[6].endswith("K")  # rx and tx per second
        await pilot.press("0")
        assert app.front() is app.domains


async def test_block_devices_view_has_path_capacity_and_rates() -> None:
    app = _app()
    async with app.run_test(size=(140, 30)) as pilot:
        await _two_polls(app)
        await pilot.press("number_sign")
        assert type(app.screen) is BlockDevicesView
        [row] = _rows(app)
        assert row[:3] == ["test", "test", "vda"]
        assert row[-1] == "/guest/diskimage1"
        assert row[7] == "1024GiB"  # what virDomainGetBlockInfo says of it
        assert all(cell.endswith("K") for cell in row[3:7])
        await pilot.press("escape")
        assert app.front() is app.domains


async def test_physical_cpus_view_has_a_row_per_host_cpu_and_switches_views() -> None:
    app = _app()
    async with app.run_test(size=(140, 30)) as pilot:
        await _two_polls(app)
        await pilot.press("exclamation_mark")
        view = app.screen
        assert isinstance(view, PhysicalCpusView)
        cpus = libvirt.open("test:///default").getInfo()[2]  # plain libvirt: 16
        await wait_for(lambda: view._last is not None, timeout=10)  # its first reading
        await app.poll_now()  # the second, after the next poll: usage between the two
        await wait_for(lambda: len(_rows(app)) == cpus, timeout=10)
        assert [row[0] for row in _rows(app)] == [str(n) for n in range(cpus)]
        await pilot.press("at")  # straight to another view: no stack of views
        assert isinstance(app.screen, InterfacesView)
        await pilot.press("0")
        assert app.screen_stack[-1] is app.domains and len(app.screen_stack) == 2
