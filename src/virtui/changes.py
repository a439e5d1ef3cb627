"""ChangesController: configuration edits from the domains screen become change requests.

Nothing is applied here: each edit is drafted on the review desk (key 5), where it is
reviewed and merged. Reads and drafts run on daemon threads; the editor runs while the
TUI is suspended.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING
from xml.sax.saxutils import quoteattr

from textual.app import SuspendNotSupported

from virtui.background import run_detached
from virtui.config import state_dir
from virtui.formatting import format_kib
from virtui.messages import TimelineNote
from virtui.model import DomainKey, LogEntry
from virtui.model.config import DomainConfig
from virtui.review.desk import ReviewDesk
from virtui.review.ops import AttachDevice, Op, RawXml, SetMemory, SetVcpus, current_counts
from virtui.screens.form import Field, FormScreen
from virtui.screens.prompt import PromptScreen
from virtui.storage_input import InputError, parse_size

if TYPE_CHECKING:
    from virtui.app import VirtuiApp

_DEV = "abcdefghijklmnopqrstuvwxyz"


def parse_pair(text: str, parse: Callable[[str], int]) -> tuple[int, int | None]:
    """``4`` → (4, None); ``4/8`` → (4, 8): a value and an optional new maximum."""
    value, slash, maximum = text.partition("/")
    return parse(value.strip()), parse(maximum.strip()) if slash else None


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise InputError(f"{text!r} is not a vCPU count: write a whole number from 1")
    return int(text)


def _kib(text: str) -> int:
    return parse_size(text) // 1024


class ChangesController:
    """Turns the domains screen's change keys into drafts on the desk."""

    def __init__(self, app: VirtuiApp, desk: Callable[[], ReviewDesk]) -> None:
        self.app = app
        self.desk = desk

    def handle(self, command: str, key: DomainKey) -> None:
        """``edit_xml``, ``set_vcpus``, ``set_memory`` or ``attach_disk`` on a domain."""
        after = {
            "edit_xml": self._edit,
            "set_vcpus": self._ask_vcpus,
            "set_memory": self._ask_memory,
            "attach_disk": self._ask_disk,
        }[command]

        def read() -> None:
            try:
                config = self.desk().port.read_config(key.host, key.uuid)
            except Exception as error:
                why = str(getattr(error, "message", error))
                self.app.call_from_thread(self.app.notify, why, severity="error")
                return
            self.app.call_from_thread(after, key, config)

        run_detached(f"read-config:{key}", read)

    def _draft(self, key: DomainKey, title: str, ops: list[Op]) -> None:
        def work() -> None:
            try:
                change = self.desk().draft(key.host, key.uuid, title, ops)
            except Exception as error:
                why = str(getattr(error, "message", error))
                self.app.call_from_thread(self.app.notify, why, severity="error", timeout=10)
                return
            text = f"change #{change.id} drafted: {title} ({'; '.join(change.summary)})"
            entry = LogEntry.now(key.host, change.domain_name, "action", text)
            self.app.post_message(TimelineNote(entry))
            self.app.call_from_thread(
                self.app.notify, f"{text}. Press 5 to review and merge it.", timeout=8
            )

        run_detached(f"draft:{key}", work)

    # -- the edits ----------------------------------------------------------------------

    def _ask_vcpus(self, key: DomainKey, config: DomainConfig) -> None:
        current, maximum = current_counts(config.xml).vcpus

        def check(text: str) -> str:
            try:
                count, top = parse_pair(text, _count)
            except InputError as error:
                return str(error)
            if count > (top or maximum):
                return f"{count} is more than the maximum {top or maximum}: write {count}/{count}"
            return ""

        def entered(text: str | None) -> None:
            if text:
                count, top = parse_pair(text, _count)
                self._draft(key, f"{config.name}: vcpu {current}→{count}", [SetVcpus(count, top)])

        self.app.push_screen(
            PromptScreen(
                f"vCPUs of {config.name}",
                f"Now {current} of at most {maximum}. New count, or count/maximum (e.g. 4/8):",
                check,
            ),
            entered,
        )

    def _ask_memory(self, key: DomainKey, config: DomainConfig) -> None:
        current, maximum = current_counts(config.xml).memory_kib

        def check(text: str) -> str:
            try:
                kib, top = parse_pair(text, _kib)
            except InputError as error:
                return str(error)
            if kib > (top or maximum):
                return f"{format_kib(kib)} is more than the maximum {format_kib(top or maximum)}"
            return ""

        def entered(text: str | None) -> None:
            if text:
                kib, top = parse_pair(text, _kib)
                title = f"{config.name}: memory {format_kib(current)}→{format_kib(kib)}"
                self._draft(key, title, [SetMemory(kib, top)])

        self.app.push_screen(
            PromptScreen(
                f"Memory of {config.name}",
                f"Now {format_kib(current)} of at most {format_kib(maximum)}. "
                "New size, or size/maximum (e.g. 2G/4G):",
                check,
            ),
            entered,
        )

    def _ask_disk(self, key: DomainKey, config: DomainConfig) -> None:
        taken = current_counts(config.xml).disk_targets
        free = next((f"vd{c}" for c in _DEV if f"vd{c}" not in taken), "vdz")

        def check(values: dict[str, str]) -> str:
            if not os.path.isabs(values["path"]):
                return "the image needs an absolute path"
            if values["target"] in taken:
                return f"{values['target']} is taken: {', '.join(sorted(taken))}"
            if values["bus"] not in ("virtio", "scsi", "sata", "ide", "usb"):
                return "bus: virtio, scsi, sata, ide or usb"
            if not values["target"].isalnum():
                return f"{values['target']!r} is not a device name such as vdb"
            return ""

        def chosen(values: dict[str, str] | None) -> None:
            if values:
                xml = (
                    "<disk type='file' device='disk'>"
                    f"<source file={quoteattr(values['path'])}/>"
                    f"<target dev={quoteattr(values['target'])} bus={quoteattr(values['bus'])}/>"
                    "</disk>"
                )
                self._draft(key, f"{config.name}: add disk {values['target']}", [AttachDevice(xml)])

        self.app.push_screen(
            FormScreen(
                f"Add a disk to {config.name}",
                "A change request is drafted; nothing is attached until it is merged.",
                [
                    Field(
                        "path",
                        "Image file (on the host)",
                        placeholder="/var/lib/libvirt/images/data.qcow2",
                    ),
                    Field("target", "Device", free),
                    Field("bus", "Bus", "virtio"),
                ],
                check,
            ),
            chosen,
        )

    def _edit(self, key: DomainKey, config: DomainConfig) -> None:
        edited = self._run_editor(config)
        if edited is None or edited.strip() == config.xml.strip():
            if edited is not None:
                self.app.notify(f"{config.name}: the XML was not changed; nothing drafted")
            return
        self._draft(key, f"{config.name}: XML edit", [RawXml(edited)])

    def _run_editor(self, config: DomainConfig) -> str | None:
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        folder = state_dir() / "edits"
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)  # the XML holds secrets (graphics passwords)
        handle, name = tempfile.mkstemp(prefix=f"{config.name}-", suffix=".xml", dir=folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(config.xml)
            try:
                with self.app.suspend():
                    done = subprocess.run([*shlex.split(editor), name], check=False)
            except SuspendNotSupported:
                self.app.notify("this terminal cannot be suspended for an editor", severity="error")
                return None
            except OSError as error:
                self.app.notify(f"cannot run {editor}: {error.strerror}", severity="error")
                return None
            if done.returncode != 0:
                self.app.notify(
                    f"{editor} exited with {done.returncode}: nothing drafted",
                    severity="warning",
                )
                return None
            with open(name, encoding="utf-8") as file:
                return file.read()
        finally:
            os.unlink(name)
