"""VirtuiScreen, the base of virtui's full screens: Esc/back that pops only itself, ``?``
help built from the bindings, and failures of background calls shown while it is up."""

from __future__ import annotations

from textual.binding import ActiveBinding
from textual.screen import Screen


class HelpFirst(Screen[None]):
    """A screen whose footer starts with ``? Help`` (htop's F1 comes first): a narrow
    terminal cuts a long footer's end, and help lists every key there is."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        bindings = super().active_bindings
        first = {k: v for k, v in bindings.items() if v.binding.action == "help"}
        return first | {k: v for k, v in bindings.items() if k not in first}


class VirtuiScreen(HelpFirst):
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
