"""StorageScreen: the storage view with the keys that change pools and volumes: new,
delete, start/stop, autostart, resize, clone, upload and download, each asked for and
checked before anything reaches libvirt."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from textual.binding import Binding

from virtui.formatting import format_bytes
from virtui.ports.storage import TransferCallback
from virtui.screens.confirm import Choice
from virtui.screens.form import Field, FormScreen
from virtui.screens.navigation import navigation_keys
from virtui.screens.prompt import PromptScreen
from virtui.screens.storage.inputs import (
    VOLUME_FORMATS,
    InputError,
    check_fits,
    check_name,
    check_pool_path,
    parse_size,
)
from virtui.screens.storage.tables import pool_key
from virtui.screens.storage.view import StorageView
from virtui.screens.transfer import TransferScreen


class StorageScreen(StorageView):
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
        *navigation_keys("3"),
    ]

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
        transfer: Callable[[TransferCallback, threading.Event], str],
    ) -> None:
        self.app.push_screen(
            TransferScreen(title, what, transfer, self.calls, host), lambda _: self.reload()
        )
