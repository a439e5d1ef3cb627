"""What virtui says, where a new user read it wrong (issue 34's words)."""

from __future__ import annotations

from pathlib import Path

from tests.tui.helpers import RecordingApp, own_desk, screen_text, wait_for
from virtui.config.settings import Settings
from virtui.formatting import format_kib
from virtui.monitor.sessions import open_sessions
from virtui.screens.prompt import PromptScreen


def _app(uri: str) -> RecordingApp:
    return RecordingApp(Settings(uris=[uri]), sessions=open_sessions([uri]), auto_poll=False)


async def test_the_memory_prompt_says_what_runs_now_and_what_the_next_boot_gets(
    fleet_uri: str, tmp_path: Path
) -> None:
    """`m` quoted the next-boot value as "Now", beside a table showing the running one."""
    app = _app(fleet_uri)
    async with app.run_test(size=(160, 40)) as pilot:
        own_desk(app, tmp_path)
        await app.poll_now()
        await pilot.press("slash", *"web01", "enter", "m")
        await wait_for(lambda: isinstance(app.screen, PromptScreen))
        web01 = next(s for s in app.store.all() if s.sample.name == "web01")
        text = " ".join(screen_text(app).split())
        assert f"Running with {format_kib(web01.sample.mem_kib)}." in text
        assert "At next boot" in text and "Now" not in text


async def test_migrating_with_one_host_says_how_to_add_another(fleet_uri: str) -> None:
    """It said "no host can take them (none)"."""
    app = _app(fleet_uri)
    async with app.run_test(size=(160, 40)) as pilot:
        await app.poll_now()
        await pilot.press("slash", *"web01", "enter", "o")
        await wait_for(lambda: any("is the only host" in t for t in app.told))
        told = next(t for t in app.told if "is the only host" in t)
        assert ":connect URI" in told and "(none)" not in told
