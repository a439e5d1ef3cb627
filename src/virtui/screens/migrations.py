"""MigrationsScreen: every migration of this session — in flight with its phase, data,
rate, dirty rate, iteration, expected downtime and time left, or finished with what
happened; `c` cancels the highlighted one."""

from __future__ import annotations

import ipaddress
import re
from typing import Protocol

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer

from virtui.formatting import format_bytes
from virtui.model.migration import CopyStorage, MigrationOptions, MigrationRow, Transport
from virtui.screens.base import VirtuiScreen
from virtui.screens.confirm import Choice, ConfirmScreen
from virtui.screens.form import Field, FormCheck, FormScreen
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
_YES = {"yes": True, "no": False}


_HOST_NAME = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*"
)


def _is_address(text: str) -> bool:
    """An IP address or a DNS name, nothing else: it goes into libvirt's migration URI
    on the target (an allow-list, as everything that reaches a host)."""
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return len(text) <= 253 and _HOST_NAME.fullmatch(text) is not None


def migration_form(
    title: str, hint: str, targets: list[str], active: bool, check: FormCheck
) -> FormScreen:
    """The form that asks where and how (answers: ``parse_options``)."""
    fields = [
        Field("target", "Target host", targets[0]),
        Field("live", "Live (yes, no: offline, the definition only)", "yes" if active else "no"),
        Field("persistent", "Persistent on the target (yes, no)", "yes"),
        Field("undefine_source", "Undefine on the source after (yes, no)", "yes"),
        Field("copy_storage", "Copy storage (none, all, incremental)", "none"),
        Field("transport", "Transport (direct, p2p, tunnelled)", "direct"),
        Field("bandwidth", "Bandwidth limit, MiB/s (0: none)", "0"),
        Field("auto_converge", "Auto-converge (yes, no)", "no"),
        Field("postcopy", "Post-copy when it does not converge (yes, no)", "no"),
        Field("address", "Migration network: the target's address (empty: its own)", ""),
        Field("tls", "TLS (yes, no: the hosts need certificates)", "no"),
        Field("max_downtime", "Maximum downtime, ms (0: libvirt's 300)", "0"),
    ]
    return FormScreen(title, hint, fields, check, compact=True)


def parse_options(values: dict[str, str]) -> MigrationOptions:
    """The form's answers as options; ValueError says which answer is wrong."""

    def yes(key: str) -> bool:
        if values[key] not in _YES:
            raise ValueError(f"{key.replace('_', ' ')}: yes or no")
        return _YES[values[key]]

    try:
        copy = CopyStorage(values["copy_storage"])
    except ValueError as error:
        raise ValueError("copy storage: none, all or incremental") from error
    try:
        transport = Transport(values["transport"])
    except ValueError as error:
        raise ValueError("transport: direct, p2p or tunnelled") from error
    if not values["bandwidth"].isdigit():
        raise ValueError("bandwidth: MiB/s as a whole number, 0 for no limit")
    if not values.get("max_downtime", "0").isdigit():
        raise ValueError("maximum downtime: milliseconds as a whole number, 0 for libvirt's")
    address = values.get("address", "")
    if address and not _is_address(address):
        raise ValueError("migration network: an IP address or a host name")
    options = MigrationOptions(
        live=yes("live"),
        persistent=yes("persistent"),
        undefine_source=yes("undefine_source"),
        copy_storage=copy,
        transport=transport,
        bandwidth_mib=int(values["bandwidth"]),
        auto_converge=yes("auto_converge"),
        postcopy=yes("postcopy"),
        address=address,
        tls=yes("tls") if "tls" in values else False,
        max_downtime_ms=int(values.get("max_downtime", "0")),
    )
    if not options.live and copy is not CopyStorage.NONE:
        raise ValueError(
            "copy storage needs a live migration: start the guest and migrate it live, or "
            "copy its volumes to the target first (storage screen: d, then u there)"
        )
    return options


def busy_text(percent: float | None, word: str = "mig") -> str:
    """What the domain's row shows meanwhile, after the table's busy glyph (the state
    column is 11 wide: "⟳ mig  45%"; a backup's ``word`` is "bak")."""
    return f"{word} {percent:3.0f}%" if percent is not None else "migrating"


class MigrationBoard(Protocol):
    """What the panel shows and the one thing it can do."""

    def panel_rows(self) -> dict[str, MigrationRow]:
        """Row key -> row, in flight first."""

    def cancel_row(self, row_key: str) -> str:
        """Cancel the migration of that row; what to tell the user."""

    def outcome_of(self, row_key: str) -> str:
        """What happened to a finished migration ("" while in flight)."""

    def postcopy_row(self, row_key: str) -> str:
        """Switch the migration of that row to post-copy now; what to tell the user."""


class MigrationsScreen(VirtuiScreen):
    """Refreshed by the controller at each job reading (every 0.5 s per migration)."""

    HELP_TITLE = "Migrations"
    HELP_NOTE = "c asks libvirt to abort the job; the row then says where the guest is."

    BINDINGS = [
        Binding("c", "cancel", "Cancel migration"),
        Binding("P", "postcopy", "Post-copy now (asks first)"),
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
        sync_rows(self.table, {key: row_cells(row) for key, row in rows.items()})
        running = sum(1 for row in rows.values() if row.in_flight)
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

    def action_postcopy(self) -> None:
        key = self._selected()
        if not key:
            self.notify("no migration selected", severity="warning")
            return

        def answered(result: str | None) -> None:
            if result:
                self.notify(self.board.postcopy_row(key))

        self.app.push_screen(
            ConfirmScreen(
                "Switch to post-copy now?",
                [
                    "The guest runs on the target from now on, fetching the memory it has "
                    "not yet from the source as it touches it: it converges at any rate.",
                    "If either host or the network fails before the end, the guest is lost.",
                ],
                "Needs the post-copy option chosen when the migration started.",
                [Choice("switch", "Switch", "y")],
            ),
            answered,
        )

    def action_cancel(self) -> None:
        key = self._selected()
        if not key:
            self.notify("no migration selected", severity="warning")
            return
        self.notify(self.board.cancel_row(key))


def _rate(value: float | None) -> str:
    return f"{format_bytes(int(value))}/s" if value else "-"


def row_cells(migration: MigrationRow) -> tuple[str, ...]:
    """The panel's cells of one migration (COLUMNS)."""
    shown = migration.shown
    where = f"{migration.source} → {migration.target}"
    if shown is None:
        return (migration.name, where, migration.state, "starting", *("-",) * 8)
    eta = f"{shown.eta_s:.0f} s" if shown.eta_s is not None and migration.outcome is None else "-"
    downtime = (
        f"{migration.outcome.downtime_ms} ms"
        if migration.outcome is not None and migration.outcome.downtime_ms is not None
        else f"~{shown.expected_downtime_ms} ms"
        if shown.expected_downtime_ms
        else "-"
    )
    return (
        migration.name,
        where,
        migration.state,
        shown.phase if migration.outcome is None else "ended",
        format_bytes(shown.processed),
        format_bytes(shown.remaining),
        format_bytes(shown.total),
        _rate(shown.rate),
        _rate(shown.dirty_rate),
        str(shown.iteration),
        downtime,
        eta,
    )
