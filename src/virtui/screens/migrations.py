"""MigrationsScreen: every migration of this session — in flight with its phase, data,
rate, dirty rate, iteration, expected downtime and time left, or finished with what
happened; `c` cancels the highlighted one."""

from __future__ import annotations

from typing import Protocol

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer

from virtui.screens.base import VirtuiScreen
from virtui.ui.broadcast import subscribe
from virtui.widgets.plain import Static
from virtui.widgets.status_bar import StatusBar
from virtui.widgets.table_sync import sync_rows

COLUMNS = (
    "Domain",
    "From → to",
    "State",
    "Phase",
    "Done",
    "Remaining",
    "Total",
    "Rate",
    "Dirty",
    "Iter",
    "Downtime",
    "ETA",
)


class MigrationBoard(Protocol):
    """What the panel shows and the one thing it can do."""

    def panel_rows(self) -> dict[str, tuple[str, ...]]:
        """Row key -> cells (COLUMNS), in flight first."""

    def cancel_row(self, row_key: str) -> str:
        """Cancel the migration of that row; what to tell the user."""

    def outcome_of(self, row_key: str) -> str:
        """What happened to a finished migration ("" while in flight)."""


class MigrationsScreen(VirtuiScreen):
    """Refreshed by the controller at each job reading (every 0.5 s per migration)."""

    HELP_TITLE = "Migrations"
    HELP_NOTE = "c asks libvirt to abort the job; the row then says where the guest is."

    BINDINGS = [
        Binding("c", "cancel", "Cancel migration"),
        Binding("escape,1", "back", "Back"),
        Binding("question_mark", "help", "Help", key_display="?"),
    ]

    DEFAULT_CSS = """
    MigrationsScreen {
        & #migrations { height: 1fr; }
        & #outcome { height: auto; padding: 0 1; color: $text-muted; }
    }
    """

    def __init__(self, board: MigrationBoard) -> None:
        super().__init__()
        self.board = board
        self.table: DataTable[str] = DataTable(id="migrations", cursor_type="row")

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield self.table
        yield Static("", id="outcome", markup=False)
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.table.add_columns(*COLUMNS)
        self.table.focus()
        subscribe(self, "migrations_changed", lambda screen, _news: screen.refresh_view())
        self.refresh_view()

    def refresh_view(self) -> None:
        """Bring the rows up to date."""
        rows = self.board.panel_rows()
        sync_rows(self.table, rows)
        running = sum(1 for cells in rows.values() if cells[2] in ("running", "cancelling"))
        self.query_one(StatusBar).set_parts(
            [
                ("virtui", "bold $accent"),
                (f"migrations: {running} in flight, {len(rows) - running} finished", ""),
                ("c cancel · Esc back", "$text-muted"),
            ]
        )
        self._show_outcome()

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_outcome()

    def _selected(self) -> str:
        if not self.table.row_count:
            return ""
        return self.table.coordinate_to_cell_key(self.table.cursor_coordinate).row_key.value or ""

    def _show_outcome(self) -> None:
        key = self._selected()
        self.query_one("#outcome", Static).update(self.board.outcome_of(key) if key else "")

    def action_cancel(self) -> None:
        key = self._selected()
        if not key:
            self.notify("no migration selected", severity="warning")
            return
        self.notify(self.board.cancel_row(key))
