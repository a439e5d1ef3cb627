"""SnapshotsScreen: list, take, revert to and delete a domain's snapshots."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer

from virtui.model.detail import SnapshotInfo
from virtui.model.timeline import LogEntry, Severity
from virtui.screens.base import VirtuiScreen
from virtui.screens.confirm import Choice, ConfirmScreen
from virtui.screens.prompt import PromptScreen
from virtui.text import visible
from virtui.ui.calls import Calls, Failure
from virtui.ui.messages import TimelineNote
from virtui.widgets.plain import Static
from virtui.widgets.status_bar import StatusBar
from virtui.widgets.table_sync import sync_rows


@dataclass(frozen=True, slots=True)
class SnapshotSource:
    """Blocking callables bound by the app to one domain's backend."""

    list: Callable[[], list[SnapshotInfo]]
    create: Callable[[str], str]
    revert: Callable[[str], str]
    delete: Callable[[str], str]


RELOAD_EVERY_S = 5.0


class SnapshotsScreen(VirtuiScreen):
    """Snapshots of one domain, oldest first; the current one is marked."""

    HELP_TITLE = "Snapshots"

    BINDINGS = [
        Binding("escape,q", "back", "Back"),
        Binding("n", "new", "New snapshot"),
        Binding("r", "revert", "Revert"),
        Binding("ctrl+d", "delete", "Delete"),
        Binding("f5", "reload", "Reload", show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
    ]

    DEFAULT_CSS = """
    SnapshotsScreen {
        & DataTable { height: 1fr; }
        & #empty { padding: 1 2; color: $text-muted; }
    }
    """

    def __init__(
        self, label: str, source: SnapshotSource, validate: Callable[[str], str], calls: Calls
    ) -> None:
        super().__init__()
        self.calls = calls
        self.label = label
        self.source = source
        self.validate = validate
        self.snapshots: list[SnapshotInfo] = []

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        table: DataTable[str] = DataTable(id="snapshots", cursor_type="row")
        table.add_columns("", "Name", "Created", "State", "Description")
        yield table
        yield Static("", id="empty")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(StatusBar).set_parts(
            [
                ("virtui", "bold $accent"),
                (f"snapshots of {self.label}", "bold"),
                ("Esc back", "$text-muted"),
            ]
        )
        self.action_reload()
        # Re-read while shown: a snapshot whose outcome was unknown (a frozen host)
        # appears once the host answers again.
        self.set_interval(RELOAD_EVERY_S, self.action_reload)

    def action_reload(self) -> None:
        self.calls(
            f"snapshots:{self.label}",
            self.source.list,
            self._show,
            lambda failure: self._failed(failure.message),
            once=True,
        )

    def _note(self, text: str, severity: Severity) -> None:
        """Every snapshot action (taken, reverted, deleted, failed) on the timeline."""
        self.app.post_message(TimelineNote(LogEntry.now("", self.label, "action", text, severity)))

    def _show(self, snapshots: list[SnapshotInfo]) -> None:
        if not self.is_attached:
            return
        self.snapshots = snapshots
        sync_rows(
            self.query_one(DataTable),
            {
                snap.name: (
                    "●" if snap.current else " ",
                    snap.name,
                    time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(snap.created)),
                    snap.state,
                    snap.description,
                )
                for snap in snapshots
            },
        )
        self.query_one("#empty", Static).update("" if snapshots else "No snapshots. n takes one.")

    def _selected(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def action_new(self) -> None:
        taken = {snap.name for snap in self.snapshots}

        def validate(name: str) -> str:
            return self.validate(name) or (f"{name!r} already exists" if name in taken else "")

        def chosen(name: str | None) -> None:
            if name:
                self._run(lambda: self.source.create(name))

        self.app.push_screen(
            PromptScreen(f"New snapshot of {self.label}", "Name:", validate), chosen
        )

    def action_revert(self) -> None:
        self._confirm_then(
            "Revert",
            "The domain's current state and disk changes since that snapshot are lost.",
            self.source.revert,
        )

    def action_delete(self) -> None:
        self._confirm_then("Delete", "", self.source.delete)

    def _confirm_then(self, verb: str, warning: str, call: Callable[[str], str]) -> None:
        name = self._selected()
        if name is None:
            return

        def chosen(result: str | None) -> None:
            if result == "yes":
                self._run(lambda: call(name))

        self.app.push_screen(
            ConfirmScreen(
                f"{verb} {self.label} snapshot {name}?",
                [f"snapshot {name} of {self.label}"],
                warning,
                [Choice("yes", verb, "y")],
            ),
            chosen,
        )

    def _run(self, call: Callable[[], str]) -> None:
        def succeeded(message: str) -> None:
            self.notify(visible(message))
            self._note(message, Severity.INFO)
            self.action_reload()  # what libvirt holds now

        def failed(failure: Failure) -> None:
            self._failed(failure.message)
            self._note(failure.message, Severity.ERROR)
            self.action_reload()  # what libvirt holds now, whatever the answer was

        self.calls(f"snapshot-op:{self.label}", call, succeeded, failed)
