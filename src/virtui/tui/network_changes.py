"""NetworkChanges: the networks screen's edits become change requests on the desk.

Nothing is applied here: each edit (a fixed DHCP host, the DHCP range, the forward mode,
an XML edit) is drafted on the review desk, reviewed there and merged. Reads and drafts
run on daemon threads; the editor runs while the TUI is suspended.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App

from virtui.model import LogEntry
from virtui.model.config import DomainConfig
from virtui.review.api import Desk
from virtui.review.model import ChangeRequest
from virtui.review.ops import Op, RawXml
from virtui.screens.editor import edit_text
from virtui.ui.calls import Calls
from virtui.ui.messages import TimelineNote


class NetworkChanges:
    """Satisfies the networks screen's NetworkDrafts."""

    def __init__(self, app: App[Any], desk: Callable[[], Desk], calls: Calls) -> None:
        self.app = app
        self.desk = desk
        self.calls = calls

    def draft(self, host: str, uuid: str, title: str, ops: list[Op]) -> None:
        """Draft a change request of the network; say so, or why not."""

        def drafted(change: ChangeRequest) -> None:
            text = f"change #{change.id} drafted: {title} ({'; '.join(change.summary)})"
            entry = LogEntry.now(host, change.domain_name, "network", text)
            self.app.post_message(TimelineNote(entry))
            # The network detail view has no digit keys: say the command too.
            self.app.notify(f"{text}. To review and merge it: 5, or :review.", timeout=8)

        self.calls(
            f"draft-network:{host}:{uuid}",
            lambda: self.desk().draft(host, uuid, title, ops, kind="network"),
            drafted,
            lambda failure: self.app.notify(failure.message, severity="error", timeout=10),
        )

    def edit(self, host: str, uuid: str, name: str) -> None:
        """Read the network's XML, open it in $EDITOR, draft what comes back."""
        self.calls(
            f"read-network-config:{host}:{uuid}",
            lambda: self.desk().read_config(host, uuid, "network"),
            lambda config: self._edited(host, uuid, config),
            lambda failure: self.app.notify(failure.message, severity="error"),
        )

    def _edited(self, host: str, uuid: str, config: DomainConfig) -> None:
        edited = edit_text(self.app, config.xml, config.name)
        if edited is None or edited.strip() == config.xml.strip():
            if edited is not None:
                self.app.notify(f"network {config.name}: the XML was not changed; nothing drafted")
            return
        self.draft(host, uuid, f"{config.name}: XML edit", [RawXml(edited)])
