"""VirtuiScreen, the base of virtui's full screens: Esc/back that pops only itself, ``?``
help built from the bindings, and failures of background calls shown while it is up."""

from __future__ import annotations

from textual.screen import Screen


class VirtuiScreen(Screen[None]):
    """A full screen with ``action_back`` and ``action_help`` (title and note below)."""

    HELP_TITLE = ""
    HELP_NOTE = ""

    def _failed(self, why: str) -> None:
        """Say a background call failed, if this screen is still shown (a call can
        outlive its screen)."""
        if self.is_attached:
            self.notify(why, severity="error", timeout=10)

    def action_back(self) -> None:
        # Only this screen: a second Esc or q in the same burst must not pop the one below.
        if self.app.screen is self:
            self.dismiss()

    def action_help(self) -> None:
        from virtui.screens.help import HelpScreen, screen_keys

        self.app.push_screen(HelpScreen(self.HELP_TITLE, screen_keys(self), self.HELP_NOTE))
