"""Operations through the keys, as a user does them, against real QEMU guests."""

from __future__ import annotations

from pathlib import Path

import libvirt
import pytest

from tests.integration.guests import define_guest
from tests.tui.helpers import RecordingApp, action_log, column, wait_for
from virtui.backends.libvirt.demo import EmbeddedDemo
from virtui.config.settings import Settings
from virtui.monitor.sessions import open_sessions
from virtui.screens.confirm import ConfirmScreen
from virtui.tui.app import VirtuiApp

pytestmark = pytest.mark.embed


def _app(uri: str) -> RecordingApp:
    # A one-minute delay: anything that shows up sooner came from an event or an action.
    return RecordingApp(Settings(uris=[uri], delay=60.0), sessions=open_sessions([uri]))


def _states(app: VirtuiApp) -> dict[str, str]:
    return dict(zip(column(app, "name"), column(app, "state"), strict=True))


async def _show_only(app: VirtuiApp, pilot: object, text: str) -> None:
    await pilot.press("slash", *text, "enter")  # type: ignore[attr-defined]


async def test_change_made_elsewhere_shows_within_a_second(
    embedded_demo: EmbeddedDemo, embed_conn: libvirt.virConnect, tmp_path: Path
) -> None:
    dom = define_guest(embed_conn, tmp_path, running=True)
    app = _app(embedded_demo.uri)
    async with app.run_test(size=(120, 30)):
        await wait_for(lambda: _states(app).get(dom.name()) == "running", timeout=10)
        # A second, separate connection, as another virsh would be.
        other = libvirt.open(embedded_demo.uri)
        try:
            other.lookupByUUIDString(dom.UUIDString()).suspend()
        finally:
            other.close()
        await wait_for(lambda: _states(app).get(dom.name()) == "paused", timeout=1.5)


async def test_start_then_force_off_with_confirmation(
    embedded_demo: EmbeddedDemo, embed_conn: libvirt.virConnect, tmp_path: Path
) -> None:
    dom = define_guest(embed_conn, tmp_path)
    app = _app(embedded_demo.uri)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(lambda: dom.name() in _states(app), timeout=10)
        await _show_only(app, pilot, dom.name())
        await pilot.press("s")
        await wait_for(lambda: _states(app).get(dom.name()) == "running", timeout=15)
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING  # real, not just on screen

        await pilot.press("ctrl+k")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), timeout=5)
        targets = str(app.screen.query_one("#targets").render())
        assert f"{dom.name()} on embed" in targets
        await pilot.press("enter")  # Cancel has the focus: Enter alone destroys nothing
        await pilot.pause()
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        await pilot.press("ctrl+k")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), timeout=5)
        await pilot.press("y")
        await wait_for(lambda: _states(app).get(dom.name()) == "shut off", timeout=15)
        assert dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF


async def test_bulk_start_reports_each_domain_and_the_app_stays_usable(
    embedded_demo: EmbeddedDemo, embed_conn: libvirt.virConnect, tmp_path: Path
) -> None:
    good = define_guest(embed_conn, tmp_path)
    broken = define_guest(embed_conn, tmp_path, disk=False)  # its image does not exist
    app = _app(embedded_demo.uri)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(lambda: broken.name() in _states(app), timeout=10)
        await _show_only(app, pilot, tmp_path.name[-12:])
        assert sorted(column(app, "name")) == sorted([good.name(), broken.name()])
        await pilot.press("ctrl+home", "space", "space")
        assert len(app.domains.table.marked) == 2
        await pilot.press("s")
        await wait_for(lambda: len(action_log(app)) >= 2, timeout=30)
        entries = {e.domain: e.detail for e in app.timeline.entries if e.kind == "action"}
        assert entries[good.name()].startswith("start: ok")
        assert entries[broken.name()].startswith("start: failed")
        assert broken.name() in entries[broken.name()]

        await wait_for(lambda: any(title.startswith("start: ") for title, _ in app.titled))
        title, text = next(n for n in reversed(app.titled) if n[0].startswith("start: "))
        assert title == "start: 1 ok, 1 failed"
        assert f"✓ {good.name()} on embed: {good.name()}: started" in text
        assert f"✗ {broken.name()} on embed:" in text
        assert good.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        assert broken.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
        await pilot.press("I")  # still responsive after a failure
        assert app.domains.mode.label == "Solaris"


async def test_undefine_offers_to_keep_storage(
    embedded_demo: EmbeddedDemo, embed_conn: libvirt.virConnect, tmp_path: Path
) -> None:
    dom = define_guest(embed_conn, tmp_path)
    name = dom.name()
    app = _app(embedded_demo.uri)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(lambda: name in _states(app), timeout=10)
        await _show_only(app, pilot, name)
        await pilot.press("ctrl+d")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), timeout=5)
        await pilot.press("k")
        await wait_for(lambda: name not in _states(app), timeout=15)
    assert name not in [d.name() for d in embed_conn.listAllDomains(0)]
    assert (tmp_path / f"{name}.img").exists()
