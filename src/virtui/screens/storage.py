"""StorageScreen: the pools of every host and the volumes of the selected pool."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from virtui.formatting import format_bytes, plural
from virtui.model.storage import PoolInfo, TransferProgress, VolumeInfo
from virtui.model.timeline import LogEntry, Severity
from virtui.ports.storage import StorageHosts
from virtui.screens.confirm import Choice, ConfirmScreen
from virtui.screens.failures import VirtuiScreen
from virtui.screens.form import Field, FormScreen
from virtui.screens.prompt import PromptScreen
from virtui.screens.storage_input import (
    VOLUME_FORMATS,
    InputError,
    check_fits,
    check_name,
    check_pool_path,
    parse_size,
)
from virtui.screens.transfer import Runner, TransferScreen
from virtui.text import error_text, visible
from virtui.tui.messages import TimelineNote
from virtui.widgets.status_bar import StatusBar
from virtui.widgets.table_sync import sync_rows

POOL_COLUMNS = ("Host", "Pool", "Type", "State", "Auto", "Size", "Used", "Free", "Usage", "Path")
VOLUME_COLUMNS = ("Volume", "Format", "Size", "Allocated", "Used by", "Path")
RELOAD_EVERY_S = 5.0
WARNING_PCT = 80.0
CRITICAL_PCT = 90.0
BAR_CELLS = 10

Progress = Callable[[TransferProgress], None]


def pool_key(pool: PoolInfo) -> str:
    """The row key of a pool: host and name."""
    return f"{pool.host}\t{pool.name}"


class StorageScreen(VirtuiScreen):
    """Pools above, volumes of the highlighted pool below; n and Ctrl+D act on whichever
    table has the focus (Tab switches)."""

    HELP_TITLE = "Storage"
    HELP_NOTE = "n and Ctrl+D act on the table with the focus: pools or volumes (Tab)."

    BINDINGS = [
        Binding("n", "new", "New"),
        Binding("ctrl+d", "delete", "Delete"),
        Binding("r", "refresh_pool", "Refresh pool"),
        Binding("s", "start_pool", "Start pool", show=False),
        Binding("ctrl+k", "stop_pool", "Stop pool", show=False),
        Binding("a", "autostart", "Pool autostart on/off", show=False),
        Binding("R", "resize", "Resize volume", show=False),
        Binding("C", "clone", "Clone volume", show=False),
        Binding("u", "upload", "Upload file"),
        Binding("d", "download", "Download"),
        Binding("1,escape", "back", "Domains"),
        Binding("2", "app.show_hosts", "Hosts", show=False),
        Binding("4", "app.show_logs", "Logs", show=False),
        Binding("5", "app.show_review", "Review desk", show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "app.quit", "Quit"),
    ]

    DEFAULT_CSS = """
    StorageScreen {
        & #pools { height: auto; max-height: 45%; }
        & #volumes { height: 1fr; border-top: solid $primary-muted; }
        & #problems { color: $text-muted; height: auto; padding: 0 1; }
    }
    """

    def __init__(self, hosts: StorageHosts, runner: Runner) -> None:
        super().__init__()
        self.hosts = hosts
        self.runner = runner
        self.pools: dict[str, PoolInfo] = {}
        self.volumes: list[VolumeInfo] = []
        self.volumes_of = ""  # the pool key the volume table shows
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
                self.runner(
                    f"storage:pools:{host}",
                    lambda host=host: self._read_pools(host),  # type: ignore[misc]
                    once=True,
                )
        gone = {key for key, pool in self.pools.items() if pool.host in self.problems}
        if gone:
            self._show_pools({k: p for k, p in self.pools.items() if k not in gone})
        self._show_problems()
        self._load_volumes()

    def _read_pools(self, host: str) -> None:
        try:
            pools = self.hosts.storage(host).pools()
        except Exception as error:  # a host without a storage driver, or one just lost
            why = error_text(error)
            self.app.call_from_thread(self._pools_failed, host, why)
            return
        self.app.call_from_thread(self._pools_read, host, pools)

    def _pools_failed(self, host: str, why: str) -> None:
        self.problems[host] = why
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
            {key: self._pool_row(pool, colours) for key, pool in pools.items()},
        )
        self._show_status()
        if self.selected_pool_key() != self.volumes_of:
            self._load_volumes()

    def _pool_row(self, pool: PoolInfo, colours: dict[str, str]) -> tuple[object, ...]:
        return (
            pool.host,
            pool.name,
            pool.type,
            pool.state,
            "yes" if pool.autostart else "no",
            format_bytes(pool.capacity) if pool.active else "-",
            format_bytes(pool.allocation) if pool.active else "-",
            format_bytes(pool.available) if pool.active else "-",
            usage_bar(pool.used_pct if pool.active else None, colours),
            pool.path,
        )

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

        def read() -> None:
            try:
                volumes = self.hosts.storage(pool.host).volumes(pool.name)
            except Exception as error:
                why = error_text(error)
                self.app.call_from_thread(self.notify, why, severity="error")
                return
            self.app.call_from_thread(self._show_volumes, key, volumes)

        self.runner(f"storage:volumes:{key}", read, once=True)

    def _show_volumes(self, key: str, volumes: list[VolumeInfo]) -> None:
        if key != self.volumes_of:
            return  # the user moved on to another pool meanwhile
        self.volumes = volumes
        sync_rows(
            self.volume_table,
            {
                volume.name: (
                    volume.name,
                    "incomplete upload" if volume.incomplete else volume.format,
                    format_bytes(volume.capacity),
                    format_bytes(volume.allocation),
                    ", ".join(volume.used_by) or "-",
                    volume.path,
                )
                for volume in volumes
            },
        )

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

        def work() -> None:
            try:
                message = call()
            except Exception as error:
                why = error_text(error)
                self.post_message(
                    TimelineNote(LogEntry.now(host, "", "action", why, Severity.ERROR))
                )
                if on_in_use is not None and getattr(error, "reason", "") == "in use":
                    self.app.call_from_thread(on_in_use, why)
                else:
                    self.app.call_from_thread(self._failed, why)
                return
            self.post_message(TimelineNote(LogEntry.now(host, "", "action", message)))
            self.app.call_from_thread(self._done, message, gone)

        self.runner(label, work)

    def _done(self, message: str, gone: str = "") -> None:
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

    # -- pool keys ----------------------------------------------------------------------

    def action_refresh_pool(self) -> None:
        pool = self._active_pool_or_say()
        if pool:
            self._run_on(
                pool.host,
                "refresh",
                lambda: self.hosts.storage(pool.host).pool_command(pool.name, "refresh"),
            )

    def action_start_pool(self) -> None:
        pool = self._pool_or_say()
        if pool is None:
            return
        if pool.active:
            self.notify(f"pool {pool.name} is already started")
            return
        self._run_on(
            pool.host,
            "start",
            lambda: self.hosts.storage(pool.host).pool_command(pool.name, "start"),
        )

    def action_stop_pool(self) -> None:
        pool = self._active_pool_or_say()
        if pool is None:
            return
        self._confirm(
            f"Stop pool {pool.name}?",
            [f"pool {pool.name} on {pool.host} ({pool.path})"],
            "Its volumes stay on disk but cannot be listed or created until it starts again.",
            [Choice("stop", "Stop", "y")],
            lambda _: self._run_on(
                pool.host,
                "stop",
                lambda: self.hosts.storage(pool.host).pool_command(pool.name, "stop"),
            ),
        )

    def action_autostart(self) -> None:
        pool = self._pool_or_say()
        if pool:
            command = "noautostart" if pool.autostart else "autostart"
            self._run_on(
                pool.host,
                command,
                lambda: self.hosts.storage(pool.host).pool_command(pool.name, command),
            )

    def action_new(self) -> None:
        if self.focused is self.volume_table:
            self._new_volume()
        else:
            self._new_pool()

    def action_delete(self) -> None:
        if self.focused is self.volume_table:
            self._delete_volume()
        else:
            self._delete_pool()

    def _new_pool(self) -> None:
        usable = sorted(host for host, why in self.hosts.storage_hosts().items() if not why)
        if not usable:
            self.notify("no connected host can hold storage pools", severity="warning")
            return
        selected = self.selected_pool()
        host = selected.host if selected else usable[0]

        def check(values: dict[str, str]) -> str:
            if values["host"] not in usable:
                return f"{values['host']!r} is not a connected host: {', '.join(usable)}"
            taken = any(
                p.host == values["host"] and p.name == values["name"] for p in self.pools.values()
            )
            return (
                check_name("pool", values["name"])
                or (f"a pool named {values['name']} already exists" if taken else "")
                or check_pool_path(values["path"], local=self.hosts.is_local(values["host"]))
            )

        def chosen(values: dict[str, str] | None) -> None:
            if values:
                self._run_on(
                    values["host"],
                    "create pool",
                    lambda: self.hosts.storage(values["host"]).create_pool(
                        values["name"], values["path"]
                    ),
                )

        self.app.push_screen(
            FormScreen(
                "New storage pool (dir)",
                "A directory pool over an existing directory; started and set to autostart.",
                [
                    Field("host", "Host", host),
                    Field("name", "Name", placeholder="images"),
                    Field("path", "Directory", placeholder="/var/lib/libvirt/images"),
                ],
                check,
            ),
            chosen,
        )

    def _delete_pool(self) -> None:
        pool = self._pool_or_say()
        if pool is None:
            return
        self._confirm(
            f"Delete pool {pool.name}?",
            [f"pool {pool.name} on {pool.host} ({pool.path}), {pool.volumes} volume(s)"],
            "Keep files: the pool is stopped and forgotten, its directory stays as it is.\n"
            "Remove directory: only when the pool holds no volumes.",
            [Choice("keep", "Keep files", "y"), Choice("remove", "Remove directory", "D")],
            lambda how: self._run_on(
                pool.host,
                "delete pool",
                lambda: self.hosts.storage(pool.host).delete_pool(
                    pool.name, remove_directory=how == "remove"
                ),
                gone=pool_key(pool),
            ),
        )

    # -- volume keys --------------------------------------------------------------------

    def _new_volume_name_problem(self, name: str) -> str:
        """Why ``name`` cannot name a new volume in the shown pool ("" when it can)."""
        problem = check_name("volume", name)
        if not problem and any(volume.name == name for volume in self.volumes):
            problem = f"a volume named {name} already exists"
        return problem

    def _new_volume(self) -> None:
        pool = self._active_pool_or_say()
        if pool is None:
            return

        def check(values: dict[str, str]) -> str:
            problem = self._new_volume_name_problem(values["name"])
            if problem:
                return problem
            try:
                size = parse_size(values["size"])
            except InputError as error:
                return str(error)
            if values["format"] not in VOLUME_FORMATS:
                return f"format {values['format']!r}: use {' or '.join(VOLUME_FORMATS)}"
            return check_fits(size, pool.available, pool.name)

        def chosen(values: dict[str, str] | None) -> None:
            if values:
                size = parse_size(values["size"])
                self._run_on(
                    pool.host,
                    "create volume",
                    lambda: self.hosts.storage(pool.host).create_volume(
                        pool.name, values["name"], size, values["format"]
                    ),
                )

        self.app.push_screen(
            FormScreen(
                f"New volume in {pool.name} on {pool.host}",
                f"{format_bytes(pool.available)} available. Sizes: 20G, 512M, 1.5T.",
                [
                    Field("name", "Name", placeholder="disk1.qcow2"),
                    Field("size", "Size", placeholder="20G"),
                    Field("format", "Format (qcow2 or raw)", "qcow2"),
                ],
                check,
            ),
            chosen,
        )

    def _delete_volume(self) -> None:
        chosen = self._volume_or_say()
        if chosen is None:
            return
        pool, volume = chosen
        users = f"Used by {', '.join(volume.used_by)}: " if volume.used_by else ""

        def anyway(why: str) -> None:
            self._confirm(
                f"Volume {volume.name} is in use",
                [why],
                "Deleting it leaves those domains with a missing disk.",
                [Choice("force", "Delete anyway", "D")],
                lambda _: self._run_on(
                    pool.host,
                    "delete volume",
                    lambda: self.hosts.storage(pool.host).delete_volume(
                        pool.name, volume.name, force=True
                    ),
                ),
            )

        self._confirm(
            f"Delete volume {volume.name}?",
            [f"{volume.path} in pool {pool.name} on {pool.host} ({format_bytes(volume.capacity)})"],
            f"{users}its data is gone for good.",
            [Choice("delete", "Delete", "y")],
            lambda _: self._run_on(
                pool.host,
                "delete volume",
                lambda: self.hosts.storage(pool.host).delete_volume(
                    pool.name, volume.name, force=False
                ),
                on_in_use=anyway,
            ),
        )

    def action_resize(self) -> None:
        chosen = self._volume_or_say()
        if chosen is None:
            return
        pool, volume = chosen

        def check(text: str) -> str:
            try:
                size = parse_size(text)
            except InputError as error:
                return str(error)
            if size < volume.capacity:
                return f"{format_bytes(size)} is smaller than the volume: shrinking loses data"
            if size == volume.capacity:
                return f"the volume is {format_bytes(size)} already"
            return check_fits(size - volume.capacity, pool.available, pool.name)

        def entered(text: str | None) -> None:
            if text:
                size = parse_size(text)
                self._run_on(
                    pool.host,
                    "resize",
                    lambda: self.hosts.storage(pool.host).resize_volume(
                        pool.name, volume.name, size
                    ),
                )

        self.app.push_screen(
            PromptScreen(
                f"Resize {volume.name}",
                f"New size (now {format_bytes(volume.capacity)}; grow only):",
                check,
            ),
            entered,
        )

    def action_clone(self) -> None:
        chosen = self._volume_or_say()
        if chosen is None:
            return
        pool, volume = chosen

        def check(name: str) -> str:
            return self._new_volume_name_problem(name) or check_fits(
                volume.allocation, pool.available, pool.name
            )

        def entered(name: str | None) -> None:
            if name:
                self._run_on(
                    pool.host,
                    "clone",
                    lambda: self.hosts.storage(pool.host).clone_volume(
                        pool.name, volume.name, name
                    ),
                )

        stem, dot, suffix = volume.name.partition(".")
        self.app.push_screen(
            PromptScreen(
                f"Clone {volume.name}", "Name of the copy:", check, f"{stem}-copy{dot}{suffix}"
            ),
            entered,
        )

    def _streams_or_say(self, host: str, what: str) -> bool:
        """Refuse before any form when the host's connection cannot stream volumes."""
        why = self.hosts.cannot_stream(host)
        if why:
            self.notify(f"cannot {what} on {host}: {why}", severity="error")
        return not why

    def action_upload(self) -> None:
        pool = self._active_pool_or_say()
        if pool is None or not self._streams_or_say(pool.host, "upload"):
            return

        def check(values: dict[str, str]) -> str:
            path = os.path.expanduser(values["path"])
            if not os.path.isfile(path):
                return f"{values['path']!r} is not a file on this machine"
            name = values["name"] or os.path.basename(path)
            return self._new_volume_name_problem(name) or check_fits(
                os.path.getsize(path), pool.available, pool.name
            )

        def chosen(values: dict[str, str] | None) -> None:
            if not values:
                return
            path = os.path.expanduser(values["path"])
            name = values["name"] or os.path.basename(path)
            self._transfer(
                pool.host,
                f"Upload to {pool.name}",
                f"{path} → volume {name} in pool {pool.name} on {pool.host}",
                lambda progress, cancelled: self.hosts.storage(pool.host).upload_volume(
                    pool.name, name, path, progress, cancelled
                ),
            )

        self.app.push_screen(
            FormScreen(
                f"Upload a file into {pool.name} on {pool.host}",
                "A new volume is made from a local file (qcow2 or raw, read from its header).",
                [
                    Field("path", "Local file", placeholder="~/images/disk.qcow2"),
                    Field("name", "Volume name (empty: the file's name)"),
                ],
                check,
            ),
            chosen,
        )

    def action_download(self) -> None:
        chosen = self._volume_or_say()
        if chosen is None or not self._streams_or_say(chosen[0].host, "download"):
            return
        pool, volume = chosen

        def check(text: str) -> str:
            path = os.path.expanduser(text)
            if not path:
                return "where should the file go?"
            if os.path.exists(path):
                return f"{text} already exists: choose a new name (nothing is overwritten)"
            parent = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(parent):
                return f"{parent} does not exist"
            return ""

        def entered(text: str | None) -> None:
            if not text:
                return
            path = os.path.abspath(os.path.expanduser(text))
            self._transfer(
                pool.host,
                f"Download {volume.name}",
                f"volume {volume.name} on {pool.host} → {path}",
                lambda progress, cancelled: self.hosts.storage(pool.host).download_volume(
                    pool.name, volume.name, path, progress, cancelled
                ),
            )

        self.app.push_screen(
            PromptScreen(
                f"Download {volume.name}",
                "To local file:",
                check,
                os.path.join(os.getcwd(), volume.name),
            ),
            entered,
        )

    def _transfer(
        self,
        host: str,
        title: str,
        what: str,
        transfer: Callable[[Progress, threading.Event], str],
    ) -> None:
        self.app.push_screen(
            TransferScreen(title, what, transfer, self.runner, host), lambda _: self.reload()
        )

    # -- navigation ---------------------------------------------------------------------


def usage_bar(pct: float | None, colours: dict[str, str]) -> Text:
    """``█████░░░░░ 52%`` in the theme's success, warning or error colour."""
    if pct is None:
        return Text("-")
    filled = round(BAR_CELLS * min(pct, 100.0) / 100.0)
    level = "error" if pct >= CRITICAL_PCT else "warning" if pct >= WARNING_PCT else "success"
    colour = colours.get(level, "")
    text = Text("█" * filled, style=colour)
    text.append("░" * (BAR_CELLS - filled), style=colours.get("foreground-darken-3", "dim"))
    text.append(f" {pct:3.0f}%")
    return text
