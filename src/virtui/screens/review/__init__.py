"""The review desk's screen: the view (list, summary, diff) and the keys that act."""

from virtui.screens.review.screen import ReviewScreen

__all__ = ["ReviewScreen"]
