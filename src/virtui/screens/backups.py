"""BackupsScreen: every backup under the place backups go, per domain, newest first —
its kind and chain, age, size, consistency and when verify last read it; `v` verifies
the highlighted one, `r` reads them again."""

from __future__ import annotations

import time
from typing import Protocol

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer

from virtui.formatting import format_bytes
from virtui.model.backup import INCREMENTAL, BackupRow
from virtui.screens.base import VirtuiScreen
from virtui.screens.navigation import TopScreenMark, navigation_keys
from virtui.ui.broadcast import subscribe
from virtui.widgets.plain import Static
from virtui.widgets.status_bar import StatusBar
from virtui.widgets.table_sync import sync_rows

COLUMNS = ("Domain", "Backup", "Kind", "Chain", "Age", "Size", "Disk", "Consistency", "Verified")


class BackupsBoard(Protocol):
    """What the screen shows and what it can ask."""

    @property
    def place(self) -> str:
        """Where backups go ("" when nowhere is set)."""

    def backup_rows(self) -> list[BackupRow]:
        """Every backup, by domain, newest first (as last read)."""

    def backups_read(self) -> bool:
        """Whether the backups were read at least once."""

    def reload_backups(self) -> None:
        """Read them again (off the loop); the screen hears when it is done."""

    def verify_backup(self, key: str) -> str:
        """Verify that backup (off the loop); what to tell the user now."""

    def verifying(self) -> set[str]:
        """The backups being verified now."""

    def running_rows(self) -> dict[str, tuple[str, float | None, bool]]:
        """Row key -> (domain, percent done, cancelling) of each backup under way."""

    def cancel_backup(self, row_key: str) -> str:
        """Cancel the backup under way of that row; what to tell the user."""


def age(seconds: float) -> str:
    """``45m``, ``5h``, ``3d`` (top-like: one unit)."""
    seconds = max(0.0, seconds)
    if seconds < 3600:
        return f"{seconds // 60:.0f}m"
    if seconds < 86400 * 2:
        return f"{seconds // 3600:.0f}h"
    return f"{seconds // 86400:.0f}d"


def row_cells(row: BackupRow, now: float, verifying: bool) -> tuple[str, ...]:
    """The screen's cells of one backup (COLUMNS)."""
    kind = f"incr on {row.parent}" if row.kind == INCREMENTAL else row.kind
    chain = "broken" if row.chain == 0 else str(row.chain)
    if verifying:
        verified = "verifying…"
    elif row.verified is None:
        verified = "never"
    else:
        verified = f"{'BAD' if row.problems else 'ok'} {age(now - row.verified)} ago"
    return (
        row.domain,
        row.name,
        kind,
        chain,
        age(now - row.created) if row.created else "?",
        format_bytes(row.size),
        format_bytes(row.disk_size),
        row.consistency,
        verified,
    )


def running_cells(domain: str, percent: float | None, cancelling: bool) -> tuple[str, ...]:
    """The cells of a backup under way: its progress in the Verified column's place."""
    state = "cancelling" if cancelling else "starting" if percent is None else f"{percent:.0f}%"
    return (domain, "⟳ under way", "", "", "", "", "", "", state)


class BackupsScreen(TopScreenMark, VirtuiScreen):
    """The backups on this machine (the place [backup] dir names)."""

    HELP_TITLE = "Backups"
    HELP_NOTE = (
        "Chain: how many backups a restore of it reads (broken: a parent is missing). "
        "Restore one as a new domain through the review desk: virtui backup restore "
        "(docs/backup.md)."
    )

    BINDINGS = [
        Binding("v", "verify", "Verify (hashes, qemu-img check)"),
        Binding("c", "cancel", "Cancel a backup under way"),
        Binding("r", "reload", "Read again"),
        Binding("1,escape", "back", "Domains"),
        *navigation_keys("7"),
    ]

    DEFAULT_CSS = """
    BackupsScreen {
        & #backups { height: 1fr; }
        & #problems { height: auto; padding: 0 1; color: $text-muted; }
    }
    """

    def __init__(self, board: BackupsBoard) -> None:
        super().__init__()
        self.board = board
        self.table: DataTable[str] = DataTable(id="backups", cursor_type="row")

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield self.table
        yield Static("", id="problems", markup=False)
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.table.add_columns(*COLUMNS)
        self.table.focus()
        subscribe(self, "backups_changed", lambda screen, _news: screen.refresh_view())
        self.refresh_view()
        self.board.reload_backups()

    def refresh_view(self) -> None:
        """Bring the rows up to date."""
        now = time.time()
        rows = self.board.backup_rows()
        busy = self.board.verifying()
        running = self.board.running_rows()
        cells = {key: running_cells(*what) for key, what in running.items()}
        cells.update({row.key: row_cells(row, now, row.key in busy) for row in rows})
        sync_rows(self.table, cells)
        domains = len({row.uuid for row in rows})
        if not self.board.place:
            said = "no [backup] dir: say where backups go in config.toml (docs/backup.md)"
        elif not self.board.backups_read():
            said = f"reading {self.board.place}…"
        else:
            bad = sum(1 for row in rows if row.problems or row.chain == 0)
            said = f"{len(rows)} backups of {domains} domains in {self.board.place}" + (
                f", {bad} bad" if bad else ""
            )
            if running:
                said += f", {len(running)} under way"
        self.query_one(StatusBar).set_parts(
            [
                ("virtui", "bold $accent"),
                (f"backups: {said}", ""),
                ("v verify · c cancel · r read again · Esc back", "$text-muted"),
            ]
        )
        self._show_problems()

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_problems()

    def _selected(self) -> str:
        if not self.table.row_count:
            return ""
        return self.table.coordinate_to_cell_key(self.table.cursor_coordinate).row_key.value or ""

    def _show_problems(self) -> None:
        key = self._selected()
        row = next((r for r in self.board.backup_rows() if r.key == key), None)
        text = ""
        if row is not None and row.problems:
            text = f"{row.domain} {row.name}: BAD: {row.problems}"
        elif row is not None and row.chain == 0:
            text = f"{row.domain} {row.name}: a backup it is built on is missing"
        self.query_one("#problems", Static).update(text)

    def action_verify(self) -> None:
        key = self._selected()
        if not key:
            self.notify("no backup selected", severity="warning")
            return
        self.notify(self.board.verify_backup(key))
        self.refresh_view()

    def action_cancel(self) -> None:
        key = self._selected()
        if not key.startswith("run:"):
            self.notify("no backup under way selected", severity="warning")
            return
        self.notify(self.board.cancel_backup(key))

    def action_reload(self) -> None:
        self.board.reload_backups()
