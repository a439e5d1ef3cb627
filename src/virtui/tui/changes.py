"""ChangesController: configuration edits from the domains screen become change requests.

Nothing is applied here: each edit is drafted on the review desk (key 5), where it is
reviewed and merged. Reads and drafts run on daemon threads; the editor runs while the
TUI is suspended.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from typing import Any

from textual.app import App

from virtui.formatting import format_kib
from virtui.model import DomainKey, LogEntry
from virtui.model.config import DomainConfig
from virtui.model.netcheck import NetworkInputError, normal_mac
from virtui.model.network import NetworkInfo, NicUse
from virtui.monitor.store import DomainStore
from virtui.ports.networks import NetworkHosts
from virtui.review.api import Desk
from virtui.review.model import ChangeRequest
from virtui.review.ops import (
    AttachDevice,
    DetachDevice,
    Op,
    RawXml,
    SetMemory,
    SetVcpus,
    current_counts,
    current_nics,
)
from virtui.screens.editor import edit_text
from virtui.screens.form import Field, FormScreen
from virtui.screens.prompt import PromptScreen
from virtui.screens.storage.inputs import InputError, parse_size
from virtui.ui.calls import Calls
from virtui.ui.messages import TimelineNote
from virtui.xmltext import quoteattr

_DEV = "abcdefghijklmnopqrstuvwxyz"
DISK_CHOICES = {
    "bus": ("virtio", "scsi", "sata", "ide", "usb"),
    "format": ("auto", "qcow2", "raw"),
    "cache": ("default", "none", "writeback", "writethrough", "directsync", "unsafe"),
    "readonly": ("no", "yes"),
    "device": ("disk", "cdrom"),
}


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


NIC_MODELS = ("virtio", "e1000e", "e1000", "rtl8139")


def free_mac(used: set[str]) -> str:
    """A MAC in QEMU's 52:54:00 range that no NIC of the host has."""
    for _ in range(1000):
        mac = "52:54:00:" + ":".join(f"{secrets.randbelow(256):02x}" for _ in range(3))
        if mac not in used:
            return mac
    raise NetworkInputError("no free MAC found: type one")


def nic_xml(values: dict[str, str], networks: list[NetworkInfo], nics: list[NicUse]) -> str:
    """The <interface> of the add-NIC form, checked: a network the host has (or a bridge
    name), a known model, a well-formed MAC that no NIC on that network has."""
    kind, colon, name = values["source"].strip().partition(":")
    if not colon or kind not in ("network", "bridge") or not name:
        raise NetworkInputError(f"{values['source']!r}: write network:NAME or bridge:NAME")
    if kind == "network" and name not in {n.name for n in networks}:
        known = ", ".join(n.name for n in networks) or "none"
        raise NetworkInputError(f"the host has no network {name} (it has: {known})")
    if not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise NetworkInputError(f"{name!r} is not a bridge name")
    if values["model"].strip() not in NIC_MODELS:
        raise NetworkInputError(f"model: one of {', '.join(NIC_MODELS)}")
    mac = normal_mac(values["mac"])
    for nic in nics:
        on_it = nic.network == name if kind == "network" else nic.bridge == name
        if nic.mac == mac and on_it:
            raise NetworkInputError(f"{mac} is already used on {kind} {name} by {nic.domain}")
    return (
        f"<interface type={quoteattr(kind)}><mac address={quoteattr(mac)}/>"
        f"<source {kind}={quoteattr(name)}/><model type={quoteattr(values['model'].strip())}/>"
        "</interface>"
    )


class ChangesController:
    """Turns the domains screen's change keys into drafts on the desk."""

    def __init__(
        self,
        app: App[Any],
        desk: Callable[[], Desk],
        calls: Calls,
        ports: NetworkHosts,
        store: DomainStore,
    ) -> None:
        self.app = app
        self.desk = desk
        self.calls = calls
        self.ports = ports
        self.store = store  # what runs now (the table's figures), beside the definition

    def handle(self, command: str, key: DomainKey) -> None:
        """``edit_xml``, ``set_vcpus``, ``set_memory`` or ``attach_disk`` on a domain."""
        after = {
            "edit_xml": self._edit,
            "set_vcpus": self._ask_vcpus,
            "set_memory": self._ask_memory,
            "attach_disk": self._ask_disk,
            "detach_nic": self._ask_detach_nic,
        }.get(command)
        if command == "attach_nic":
            self._read_for_nic(key)
            return
        assert after is not None

        self.calls(
            f"read-config:{key}",
            lambda: self.desk().read_config(key.host, key.uuid),
            lambda config: after(key, config),
            lambda failure: self.app.notify(failure.message, severity="error"),
        )

    def _draft(self, key: DomainKey, title: str, ops: list[Op]) -> None:
        def drafted(change: ChangeRequest) -> None:
            text = f"change #{change.id} drafted: {title} ({'; '.join(change.summary)})"
            entry = LogEntry.now(key.host, change.domain_name, "action", text)
            self.app.post_message(TimelineNote(entry))
            self.app.notify(f"{text}. Press 5 to review and merge it.", timeout=8)

        self.calls(
            f"draft:{key}",
            lambda: self.desk().draft(key.host, key.uuid, title, ops),
            drafted,
            lambda failure: self.app.notify(failure.message, severity="error", timeout=10),
        )

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
                f"{self._running_memory(key)}At next boot {format_kib(current)} of at most "
                f"{format_kib(maximum)}. New size, or size/maximum (e.g. 2G/4G):",
                check,
            ),
            entered,
        )

    def _running_memory(self, key: DomainKey) -> str:
        """ "Running with 48MiB. " when it runs (what the table shows), else ""."""
        stats = self.store.get(key)
        if stats is None or not stats.sample.state.is_active:
            return ""
        return f"Running with {format_kib(stats.sample.mem_kib)}. "

    def _ask_disk(self, key: DomainKey, config: DomainConfig) -> None:
        taken = current_counts(config.xml).disk_targets
        free = next((f"vd{c}" for c in _DEV if f"vd{c}" not in taken), "vdz")

        def check(values: dict[str, str]) -> str:
            if not os.path.isabs(values["path"]):
                return "the image needs an absolute path"
            if values["target"] in taken:
                return f"{values['target']} is taken: {', '.join(sorted(taken))}"
            if not values["target"].isalnum():
                return f"{values['target']!r} is not a device name such as vdb"
            for name, allowed in DISK_CHOICES.items():
                if values[name] not in allowed:
                    return f"{name}: {', '.join(allowed)}"
            return ""

        def chosen(values: dict[str, str] | None) -> None:
            if values:
                self._disk_format(key, config, values)

        self.app.push_screen(
            FormScreen(
                f"Add a disk to {config.name}",
                "A change request is drafted; nothing is attached until it is merged. "
                "Format auto: read from the volume or the file's header.",
                [
                    Field(
                        "path",
                        "Image file (on the host)",
                        placeholder="/var/lib/libvirt/images/data.qcow2",
                    ),
                    Field("target", "Device", free),
                    Field("bus", "Bus (virtio, scsi, sata, ide, usb)", "virtio"),
                    Field("format", "Format (auto, qcow2, raw)", "auto"),
                    Field("cache", "Cache (default, none, writeback, writethrough)", "default"),
                    Field("readonly", "Read-only (no, yes)", "no"),
                    Field("device", "Kind (disk, cdrom)", "disk"),
                ],
                check,
            ),
            chosen,
        )

    def _disk_format(self, key: DomainKey, config: DomainConfig, values: dict[str, str]) -> None:
        """Find the image's format where the host can say (never guess raw over a qcow2),
        ask where it cannot; then draft."""
        if values["format"] != "auto" or values["device"] == "cdrom":
            fmt = values["format"] if values["format"] != "auto" else "raw"
            self._draft_disk(key, config, values, fmt)
            return

        self.calls(
            f"image-format:{key}",
            lambda: self.desk().image_format(key.host, values["path"]),
            lambda found: self._format_found(key, config, values, found),
            lambda _failure: self._format_found(key, config, values, None),  # then it asks
        )

    def _format_found(
        self, key: DomainKey, config: DomainConfig, values: dict[str, str], found: str | None
    ) -> None:
        if found is not None:
            self._draft_disk(key, config, values, found)
            return

        def entered(text: str | None) -> None:
            if text:
                self._draft_disk(key, config, values, text.strip())

        self.app.push_screen(
            PromptScreen(
                "Image format",
                f"{values['path']} is not in a pool and not on this machine: its format "
                "cannot be read. Format (qcow2 or raw):",
                lambda text: "" if text.strip() in ("qcow2", "raw") else "qcow2 or raw",
            ),
            entered,
        )

    def _draft_disk(
        self, key: DomainKey, config: DomainConfig, values: dict[str, str], fmt: str
    ) -> None:
        cache = "" if values["cache"] == "default" else f" cache={quoteattr(values['cache'])}"
        readonly = "<readonly/>" if values["readonly"] == "yes" else ""
        xml = (
            f"<disk type='file' device={quoteattr(values['device'])}>"
            f"<driver name='qemu' type={quoteattr(fmt)}{cache}/>"
            f"<source file={quoteattr(values['path'])}/>"
            f"<target dev={quoteattr(values['target'])} bus={quoteattr(values['bus'])}/>"
            f"{readonly}</disk>"
        )
        title = f"{config.name}: add {values['device']} {values['target']} ({fmt})"
        self._draft(key, title, [AttachDevice(xml)])

    # -- NICs ---------------------------------------------------------------------------

    def _read_for_nic(self, key: DomainKey) -> None:
        def read() -> tuple[DomainConfig, list[NetworkInfo], list[NicUse]]:
            port = self.ports.networks(key.host)
            config = self.desk().read_config(key.host, key.uuid)
            return config, port.networks(), port.nics()

        self.calls(
            f"read-nics:{key}",
            read,
            lambda found: self._ask_nic(key, *found),
            lambda failure: self.app.notify(failure.message, severity="error"),
        )

    def _ask_nic(
        self,
        key: DomainKey,
        config: DomainConfig,
        networks: list[NetworkInfo],
        nics: list[NicUse],
    ) -> None:
        used = {nic.mac for nic in nics}
        # libvirt's own "default" when it is up, else the first network that is
        active = [n.name for n in networks if n.active]
        default = "default" if "default" in active else (active or [""])[0]

        def check(values: dict[str, str]) -> str:
            try:
                nic_xml(values, networks, nics)
            except (NetworkInputError, InputError) as error:
                return str(error)
            return ""

        def chosen(values: dict[str, str] | None) -> None:
            if values:
                xml = nic_xml(values, networks, nics)
                title = (
                    f"{config.name}: add NIC on {values['source']} ({normal_mac(values['mac'])})"
                )
                self._draft(key, title, [AttachDevice(xml)])

        self.app.push_screen(
            FormScreen(
                f"Add a NIC to {config.name}",
                "A change request is drafted; nothing is attached until it is merged. "
                "Source: network:NAME (the host's networks: "
                f"{', '.join(n.name for n in networks) or 'none'}) or bridge:NAME.",
                [
                    Field("source", "Source", f"network:{default}" if default else ""),
                    Field("model", f"Model ({', '.join(NIC_MODELS)})", "virtio"),
                    Field("mac", "MAC (proposed: unused on this host)", free_mac(used)),
                ],
                check,
            ),
            chosen,
        )

    def _ask_detach_nic(self, key: DomainKey, config: DomainConfig) -> None:
        nics = current_nics(config.xml)
        if not nics:
            self.app.notify(f"{config.name} has no NIC", severity="warning")
            return
        listed = ", ".join(f"{nic.mac} ({nic.source})" for nic in nics)

        def check(text: str) -> str:
            mac = text.strip().lower()
            return "" if any(nic.mac == mac for nic in nics) else f"{text!r} is not one of {listed}"

        def entered(text: str | None) -> None:
            if text:
                nic = next(nic for nic in nics if nic.mac == text.strip().lower())
                self._draft(
                    key,
                    f"{config.name}: remove NIC {nic.mac} ({nic.source})",
                    [DetachDevice(nic.xml)],
                )

        self.app.push_screen(
            PromptScreen(f"Remove a NIC from {config.name}", f"Its NICs: {listed}. MAC:", check),
            entered,
        )

    def _edit(self, key: DomainKey, config: DomainConfig) -> None:
        edited = edit_text(self.app, config.xml, config.name)
        if edited is None or edited.strip() == config.xml.strip():
            if edited is not None:
                self.app.notify(f"{config.name}: the XML was not changed; nothing drafted")
            return
        self._draft(key, f"{config.name}: XML edit", [RawXml(edited)])
