"""The registry of top screens is the one place a top screen is named."""

from __future__ import annotations

from textual.binding import Binding

from virtui.screens.domains import DomainsScreen
from virtui.tui.key_scopes import SCOPES
from virtui.tui.top_screens import OPENINGS
from virtui.ui.commands import HELP, NAMES, parse
from virtui.ui.top_screens import TOP_SCREENS


def test_every_top_screen_opens_and_has_one_digit_and_its_own_words() -> None:
    assert set(OPENINGS) == {top.name for top in TOP_SCREENS}
    digits = [top.digit for top in TOP_SCREENS]
    assert len(set(digits)) == len(digits)
    words = [word for aliases in NAMES.values() for word in aliases]
    assert len(set(words)) == len(words)  # no word means two commands


def test_commands_help_keys_and_keymap_sections_come_from_the_registry() -> None:
    sections = {scope: (title, owner) for title, scope, owner in SCOPES}
    for top in TOP_SCREENS:
        assert parse(f":{top.words[-1]} @h x").name == top.words[0]
        assert f":{top.words[0]} {top.usage}" in HELP
        assert sections[top.name] == (top.section, OPENINGS[top.name].kind)
        digits = {
            binding.key: binding.action
            for binding in DomainsScreen.BINDINGS
            if isinstance(binding, Binding)
        }
        if top.digit != "1":  # the domains screen's own digit is not bound on it
            assert digits[top.digit] == f"app.show('{top.name}')"
