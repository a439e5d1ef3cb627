"""A confirmation shows libvirt's and users' words with their control characters made
visible: a migration pre-check's reason is libvirt's error text."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Static

from virtui.screens.confirm import Choice, ConfirmScreen


async def test_targets_and_warning_reach_the_screen_with_escapes_visible() -> None:
    app: App[None] = App()
    async with app.run_test(size=(100, 30)) as pilot:
        hostile = "web\x1b]0;pwned\x07 → h2: ✗ disk: no\x1b[2J"
        app.push_screen(
            ConfirmScreen(
                "Migrate?", [hostile], "reason:\x1b[31m red\nsecond line", [Choice("go", "Go", "y")]
            )
        )
        await pilot.pause()
        shown = [str(static.render()) for static in app.screen.query(Static)]
        text = "\n".join(shown)
        assert "\x1b" not in text and "\x07" not in text
        assert "web\\x1b]0;pwned\\x07 → h2" in text
        assert "second line" in text
