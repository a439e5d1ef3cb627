"""Where the network screens' configuration edits go."""

from __future__ import annotations

from typing import Protocol

from virtui.review.ops import Op


class NetworkDrafts(Protocol):
    """Where the networks screen's configuration edits go: change requests on the desk."""

    def draft(self, host: str, uuid: str, title: str, ops: list[Op]) -> None:
        """Draft a change request of the network (told to the user when it is made)."""

    def edit(self, host: str, uuid: str, name: str) -> None:
        """Edit the network's XML in $EDITOR; the result becomes a change request."""
