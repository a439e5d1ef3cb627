"""A domain whose XML holds a control character, on a real daemon: libvirt keeps an ESC
raw in its XML (XML cannot hold it), and the parser refused the whole document, so the
detail view stayed at "Reading…" with an error every poll."""

from __future__ import annotations

from pathlib import Path

import libvirt

from tests.integration.daemons import Daemon
from tests.integration.guests import define_guest
from tests.tui.helpers import RecordingApp, screen_text, wait_for
from virtui.config.settings import Settings
from virtui.monitor.sessions import open_sessions
from virtui.screens.detail import DetailScreen


async def test_a_domain_named_with_an_escape_is_shown_in_detail_made_visible(
    storage_daemon: Daemon, storage_check: libvirt.virConnect, tmp_path: Path
) -> None:
    dom = define_guest(storage_check, tmp_path)
    suffix = dom.name().rpartition("-")[2]
    dom.rename(f"esc\x1b]0;title\x07{suffix}", 0)
    dom = storage_check.lookupByUUIDString(dom.UUIDString())
    dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_TITLE, "t\x1b[2Jx", None, None, 0)
    uri = storage_daemon.qemu_uri
    names = {uri: "h"}
    app = RecordingApp(
        Settings(uris=[uri], names=names),
        sessions=open_sessions([uri], names=names),
        auto_poll=False,
    )
    async with app.run_test(size=(150, 40)) as pilot:
        await app.poll_now()
        await pilot.press("slash", *suffix, "enter", "enter")
        await wait_for(lambda: isinstance(app.screen, DetailScreen))
        await wait_for(lambda: "Reading" not in screen_text(app))
        shown = screen_text(app)
        assert "esc\\x1b]0;title\\x07" in shown
        assert "\x1b" not in shown and "\x07" not in shown
        assert not any("not well-formed" in told for told in app.told), app.told
    dom.undefine()
