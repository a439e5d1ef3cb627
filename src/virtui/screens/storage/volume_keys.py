"""VolumeKeys: the storage view's keys for volumes: new, delete (asking again when a
domain uses it), resize, clone, upload and download with progress and cancel."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from virtui.formatting import format_bytes
from virtui.ports.storage import TransferCallback
from virtui.screens.confirm import Choice
from virtui.screens.form import Field, FormScreen
from virtui.screens.prompt import PromptScreen
from virtui.screens.storage.inputs import (
    VOLUME_FORMATS,
    InputError,
    check_fits,
    check_name,
    parse_size,
)
from virtui.screens.storage.view import StorageView
from virtui.screens.transfer import TransferScreen


class VolumeKeys(StorageView):
    """The volume half of the storage screen's keys."""

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
