"""Text from libvirt, a host, a file or a user is never read as Textual or Rich markup.

A QEMU lock error names its image in brackets (``[/var/lib/…]``): read as markup, it
raised MarkupError and the app exited. The source test keeps the wrong way from coming
back; the Pilot test shows such text on every surface it reaches.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.fixtures.nodes import SMALL_FLEET, NodePool, NodeVolume, write_node
from tests.tui.helpers import RecordingApp, screen_text, wait_for
from virtui.config.settings import Settings
from virtui.monitor.sessions import open_sessions
from virtui.screens.storage import StorageScreen

SOURCE = Path(__file__).parents[2] / "src" / "virtui"
HOSTILE = (
    "Is another process using the image [/var/lib/libvirt/images/x.img]?",
    "[bold]loud[/bold] [link=https://example.org]here[/link] [/x] [",
)


def test_no_module_shows_text_through_a_markup_reading_widget() -> None:
    wrong = []
    for path in SOURCE.rglob("*.py"):
        text = path.read_text()
        if path.name != "plain.py":
            for names in re.findall(r"^from textual\.widgets import (.+)$", text, re.M):
                if {"Static", "Label"} & {n.strip() for n in names.split(",")}:
                    wrong.append(f"{path}: Textual's own Static/Label (use virtui.widgets.plain)")
        if re.search(r"markup\s*=\s*True", text):
            wrong.append(f"{path}: markup=True")
    assert wrong == []


async def test_bracketed_text_is_shown_as_it_is_everywhere(tmp_path: Path) -> None:
    pools = [NodePool("[bold]pool", "/srv/[/x]", (NodeVolume("[/x].qcow2", 1, 1),))]
    uri = f"test://{write_node(tmp_path / 'node.xml', SMALL_FLEET, pools=pools)}"
    app = RecordingApp(Settings(uris=[uri]), sessions=open_sessions([uri]), auto_poll=False)
    async with app.run_test(size=(150, 40)) as pilot:
        await app.poll_now()
        await pilot.press("3")
        await wait_for(lambda: isinstance(app.screen, StorageScreen))
        screen = app.screen
        assert isinstance(screen, StorageScreen)
        await wait_for(lambda: len(screen.volumes) == 1)
        await pilot.pause()
        for message in HOSTILE:
            screen.notify(message, title="[/x]")  # Textual's Widget.notify: markup=True
        await pilot.pause()
        assert "[bold]pool" in screen_text(app)  # the pools table
        await pilot.press("tab")
        await wait_for(lambda: "[/x].qcow2" in screen_text(app))  # the volumes table
        toasts = [toast for toast in app._notifications]  # what the toasts were given
        assert [toast.message for toast in toasts][-2:] == list(HOSTILE)
        assert not any(toast.markup for toast in toasts)
        assert app.is_running
    assert app.return_code in (None, 0)  # no MarkupError ended it
