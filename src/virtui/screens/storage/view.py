"""StorageView: the pools of every host and the volumes of the selected pool, read
and kept fresh; StorageScreen adds the keys that change them."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.widgets import DataTable, Footer

from virtui.formatting import plural
from virtui.model.storage import PoolInfo, VolumeInfo
from virtui.model.timeline import LogEntry, Severity
from virtui.ports.storage import StorageHosts
from virtui.screens.base import VirtuiScreen
from virtui.screens.confirm import Choice, ConfirmScreen
from virtui.screens.navigation import TopScreenMark
from virtui.screens.storage.tables import (
    POOL_COLUMNS,
    VOLUME_COLUMNS,
    column_widths,
    pool_key,
    pool_row,
    volume_row,
)
from virtui.text import visible
from virtui.ui.calls import Calls, Failure
from virtui.ui.messages import TimelineNote
from virtui.widgets.plain import Static
from virtui.widgets.status_bar import StatusBar
from virtui.widgets.table_sync import sync_rows

RELOAD_EVERY_S = 5.0


class StorageView(TopScreenMark, VirtuiScreen):
    """Pools above, volumes of the highlighted pool below, read on background threads
    (one read per host at a time) and again every few seconds."""

    DEFAULT_CSS = """
    StorageView {
        & #pools { height: auto; max-height: 45%; }
        & #volumes { height: 1fr; border-top: solid $primary-muted; }
        & #problems { color: $text-muted; height: auto; padding: 0 1; }
    }
    """

    def __init__(self, hosts: StorageHosts, calls: Calls) -> None:
        super().__init__()
        self.hosts = hosts
        self.calls = calls
        self.pools: dict[str, PoolInfo] = {}
        self.volumes: list[VolumeInfo] = []
        self.volumes_of = ""  # the pool key whose volumes are wanted
        self._volume_table_of = ""  # the pool key whose volumes the table holds
        self._volume_widths: list[int] = []  # the widths its columns were given
        self.problems: dict[str, str] = {}  # host -> why its storage is not shown
        self.pool_table: DataTable[object] = DataTable(id="pools", cursor_type="row")
        self.volume_table: DataTable[object] = DataTable(id="volumes", cursor_type="row")

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield self.pool_table
        yield Static("", id="problems", markup=False)
        yield self.volume_table
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.pool_table.add_columns(*POOL_COLUMNS)
        self.volume_table.add_columns(*VOLUME_COLUMNS)
        self.pool_table.focus()
        self._show_status()
        self.reload()
        self.set_interval(RELOAD_EVERY_S, self.reload, name="storage-reload")

    # -- reading ------------------------------------------------------------------------

    def reload(self) -> None:
        """Read every host's pools again (each host on its own thread) and the volumes."""
        hosts = self.hosts.storage_hosts()
        self.problems = {host: why for host, why in hosts.items() if why}
        for host, why in hosts.items():
            if not why:
                # One read per host at a time: a frozen host is not asked again and again.
                self.calls(
                    f"storage:pools:{host}",
                    self.hosts.storage(host).pools,
                    lambda pools, host=host: self._pools_read(host, pools),  # type: ignore[misc]
                    # a host without a storage driver, or one just lost
                    lambda failure, host=host: self._pools_failed(host, failure),  # type: ignore[misc]
                    once=True,
                )
        gone = {key for key, pool in self.pools.items() if pool.host in self.problems}
        if gone:
            self._show_pools({k: p for k, p in self.pools.items() if k not in gone})
        self._show_problems()
        self._load_volumes()

    def _pools_failed(self, host: str, failure: Failure) -> None:
        self.problems[host] = failure.message
        self._show_pools({k: p for k, p in self.pools.items() if p.host != host})
        self._show_problems()

    def _pools_read(self, host: str, pools: list[PoolInfo]) -> None:
        self.problems.pop(host, None)
        merged = {k: p for k, p in self.pools.items() if p.host != host}
        merged.update({pool_key(pool): pool for pool in pools})
        self._show_pools(dict(sorted(merged.items())))
        self._show_problems()

    def _show_pools(self, pools: dict[str, PoolInfo]) -> None:
        self.pools = pools
        colours = self.app.get_css_variables()
        sync_rows(
            self.pool_table,
            {key: pool_row(pool, colours) for key, pool in pools.items()},
        )
        self._show_status()
        if self.selected_pool_key() != self.volumes_of:
            self._load_volumes()

    def _show_problems(self) -> None:
        text = "  ".join(f"{host}: {visible(why)}" for host, why in sorted(self.problems.items()))
        self.query_one("#problems", Static).update(text)
        if not self.pools and not self.problems:
            self.query_one("#problems", Static).update("No storage pools. n creates one.")

    def _show_status(self) -> None:
        hosts = len({pool.host for pool in self.pools.values()})
        selected = self.selected_pool()
        where = f"pool {selected.name} on {selected.host}" if selected else "no pool selected"
        self.query_one(StatusBar).set_parts(
            [
                ("virtui", "bold $accent"),
                (f"storage: {plural(len(self.pools), 'pool')} on {plural(hosts, 'host')}", ""),
                (where, "bold"),
                ("Tab pools/volumes", "$text-muted"),
            ]
        )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self.pool_table:
            self._show_status()
            if self.selected_pool_key() != self.volumes_of:
                self._load_volumes()

    def _load_volumes(self) -> None:
        pool = self.selected_pool()
        if pool is None or not pool.active:
            self.volumes_of = pool_key(pool) if pool else ""
            self._show_volumes(self.volumes_of, [])
            return
        key = pool_key(pool)
        self.volumes_of = key

        self.calls(
            f"storage:volumes:{key}",
            lambda: self.hosts.storage(pool.host).volumes(pool.name),
            lambda volumes: self._show_volumes(key, volumes),
            lambda failure: self.notify(failure.message, severity="error"),
            once=True,
        )

    def _show_volumes(self, key: str, volumes: list[VolumeInfo]) -> None:
        if key != self.volumes_of:
            return  # the user moved on to another pool meanwhile
        rows = {volume.name: volume_row(volume) for volume in volumes}
        widths = column_widths(VOLUME_COLUMNS, list(rows.values()))
        table = self.volume_table
        kept = self.selected_volume() if key == self._volume_table_of else None
        if key != self._volume_table_of or widths != self._volume_widths:
            # Widths are given, not measured: a DataTable's measured widths only grow and
            # are measured when a frame is drawn, so they depended on which pool was read
            # first and on when the screen was looked at (two snapshot flakes).
            table.clear(columns=True)
            for title, width in zip(VOLUME_COLUMNS, widths, strict=True):
                table.add_column(title, width=width)
            self._volume_table_of, self._volume_widths = key, widths
        self.volumes = volumes
        sync_rows(table, rows)
        if kept is not None and kept.name in rows:  # the cursor stays on its volume
            table.move_cursor(row=table.get_row_index(kept.name))

    # -- selection ----------------------------------------------------------------------

    def selected_pool_key(self) -> str:
        """The row key of the highlighted pool, or ""."""
        table = self.pool_table
        if not table.row_count:
            return ""
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""

    def selected_pool(self) -> PoolInfo | None:
        """The highlighted pool."""
        return self.pools.get(self.selected_pool_key())

    def selected_volume(self) -> VolumeInfo | None:
        """The highlighted volume of the shown pool."""
        table = self.volume_table
        if not table.row_count:
            return None
        name = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((volume for volume in self.volumes if volume.name == name), None)

    def _pool_or_say(self) -> PoolInfo | None:
        pool = self.selected_pool()
        if pool is None:
            self.notify("no pool selected", severity="warning")
        return pool

    def _active_pool_or_say(self) -> PoolInfo | None:
        pool = self._pool_or_say()
        if pool is not None and not pool.active:
            self.notify(f"pool {pool.name} is not started: s starts it", severity="warning")
            return None
        return pool

    def _volume_or_say(self) -> tuple[PoolInfo, VolumeInfo] | None:
        pool = self._active_pool_or_say()
        volume = self.selected_volume()
        if pool is None:
            return None
        if volume is None:
            self.notify(f"pool {pool.name} has no volume selected", severity="warning")
            return None
        return pool, volume

    # -- running ------------------------------------------------------------------------

    def _run_on(
        self,
        host: str,
        label: str,
        call: Callable[[], str],
        on_in_use: Callable[[str], None] | None = None,
        gone: str = "",
    ) -> None:
        """Run a blocking call on its own thread, then say how it went (also in the
        logs timeline) and reload."""

        def failed(failure: Failure) -> None:
            why = failure.message
            self.post_message(TimelineNote(LogEntry.now(host, "", "action", why, Severity.ERROR)))
            if on_in_use is not None and failure.reason == "in use":
                on_in_use(why)
            else:
                self._failed(why)

        self.calls(label, call, lambda message: self._done(host, message, gone), failed)

    def _done(self, host: str, message: str, gone: str = "") -> None:
        self.post_message(TimelineNote(LogEntry.now(host, "", "action", message)))
        self.notify(message)
        if gone:  # a deleted pool: its volumes are not read again ("no pool …")
            self.pools.pop(gone, None)
            self._show_pools(dict(self.pools))
        self.reload()

    def _failed(self, why: str) -> None:
        self.notify(why, severity="error", timeout=10)
        self.reload()

    def _confirm(
        self,
        title: str,
        targets: list[str],
        warning: str,
        choices: list[Choice],
        then: Callable[[str], None],
    ) -> None:
        def chosen(result: str | None) -> None:
            if result:
                then(result)

        self.app.push_screen(ConfirmScreen(title, targets, warning, choices), chosen)
