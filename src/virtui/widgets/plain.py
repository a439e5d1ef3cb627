"""Static and Label that never read their text as Textual markup.

Everything virtui shows may hold libvirt's, a host's or a user's words: a QEMU lock
message names its image as ``[/var/lib/…]``, a domain may be called ``[bold]x``. Read as
markup, the first kills the app (MarkupError) and the second hides itself. Screens and
widgets import these two instead of Textual's (tests/unit/test_markup_free.py checks).
"""

from __future__ import annotations

from typing import Any

from textual import widgets
from textual.visual import VisualType


class Static(widgets.Static):
    """Textual's Static with markup always off."""

    def __init__(self, content: VisualType = "", **kwargs: Any) -> None:
        kwargs["markup"] = False
        super().__init__(content, **kwargs)


class Label(widgets.Label):
    """Textual's Label with markup always off."""

    def __init__(self, content: VisualType = "", **kwargs: Any) -> None:
        kwargs["markup"] = False
        super().__init__(content, **kwargs)
