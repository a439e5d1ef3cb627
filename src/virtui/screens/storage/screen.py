"""StorageScreen: the storage view with the keys that change pools and volumes (the
volume keys are in volume_keys.py), each asked for and checked before anything reaches
libvirt."""

from __future__ import annotations

from textual.binding import Binding

from virtui.screens.confirm import Choice
from virtui.screens.form import Field, FormScreen
from virtui.screens.navigation import navigation_keys
from virtui.screens.storage.inputs import (
    check_name,
    check_pool_path,
)
from virtui.screens.storage.tables import pool_key
from virtui.screens.storage.volume_keys import VolumeKeys


class StorageScreen(VolumeKeys):
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
        Binding("R", "resize", "Resize volume"),  # R: reverse sort on domains
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
