"""``virtui --demo`` as a user starts it: progress, real guests, teardown on exit."""

from __future__ import annotations

import pytest

from tests.integration.conftest import require_embedded_driver
from tests.tui.helpers import column, status_text, wait_for
from virtui.backends.libvirt.connections import open_connection
from virtui.backends.libvirt.demo import DEMO_PREFIX
from virtui.config.settings import Settings
from virtui.screens.startup import StartupScreen
from virtui.tui.app import VirtuiApp

pytestmark = pytest.mark.embed


async def test_demo_boots_real_guests_shows_them_and_tears_them_down() -> None:
    require_embedded_driver()
    app = VirtuiApp(Settings(demo=True, delay=1.0))
    saw_progress = False
    async with app.run_test(size=(120, 30)) as pilot:
        saw_progress = isinstance(app.screen, StartupScreen)
        await wait_for(lambda: not isinstance(app.screen, StartupScreen), timeout=120)
        await wait_for(lambda: len(column(app, "name")) == 5 and "-" not in column(app, "cpu")[:1])
        names = dict(zip(column(app, "name"), column(app, "state"), strict=True))
        assert names == {
            DEMO_PREFIX + "spin": "running",
            DEMO_PREFIX + "idle": "running",
            DEMO_PREFIX + "paused": "paused",
            DEMO_PREFIX + "off": "shut off",
            "test": "running",
        }
        assert "hosts 2/2" in status_text(app)
        # Sorted by %CPU, the spinning guest or the test domain (always 100%) leads.
        assert column(app, "name")[0] in (DEMO_PREFIX + "spin", "test")
        await pilot.press("q")
    assert saw_progress
    uri = next(s.backend.uri for s in app.sessions if s.name == "embed")
    app.shutdown()
    conn = open_connection(uri)  # the process's shared embed connection: not closed
    left = [d.name() for d in conn.listAllDomains(0) if d.name().startswith(DEMO_PREFIX)]
    assert left == []
