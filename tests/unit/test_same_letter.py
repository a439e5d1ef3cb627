"""One letter, two meanings: on the domains screen `R` reverses the sort, on the storage
screen it resizes a volume, on the review desk it rebases. A user's hands learn the
domains screen first; so wherever a letter means something unrelated (not `s` for a
pool's start), that screen's footer says what it does there (the decision recorded in
docs/keymap.md)."""

from __future__ import annotations

import re

from textual.binding import Binding

from virtui.screens.domains import DomainsScreen
from virtui.tui.key_scopes import SCOPES

# Screens that share the domains screen's keys, and moving the cursor (g: oldest, as in
# less), which no one reaches for by habit from the domains screen.
_SAME_KEYS = {"domains", "detail", "table", "timeline"}


def _words(description: str) -> set[str]:
    return set(re.sub(r"\(.*?\)", "", description).lower().replace("/", " ").split())


def _letters(bindings: list[Binding]) -> dict[str, Binding]:
    return {
        key: binding
        for binding in bindings
        for key in binding.key.split(",")
        if len(key) == 1 and key.isalpha()
    }


def test_a_letter_that_means_something_else_here_is_in_this_screens_footer() -> None:
    home = {k: b.description for k, b in _letters(DomainsScreen.BINDINGS).items()}  # type: ignore[arg-type]
    unsaid = []
    for title, scope, kind in SCOPES:
        if scope in _SAME_KEYS:
            continue
        bindings = [b for b in getattr(kind, "BINDINGS", []) if isinstance(b, Binding)]
        for key, binding in _letters(bindings).items():
            related = key in home and bool(_words(binding.description) & _words(home[key]))
            if key in home and not related and not binding.show:
                unsaid.append(f"{title}: {key} = {binding.description} (domains: {home[key]})")
    assert not unsaid, "\n".join(unsaid)
