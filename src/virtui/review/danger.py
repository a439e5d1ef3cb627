"""Changes that reach beyond the guest: flagged on the request, the diff and the merge.

A domain definition can make the host run a program as root (``<emulator>``, which
libvirt probes at define time, ``<qemu:commandline>``, an ethernet ``<script>``), hand
it host hardware or files (``<hostdev>``, ``<filesystem>``, a disk outside the known
pools, a character device writing to a host path), switch off confinement
(``<seclabel type='none'>``) or expose a console to the network (graphics listening
beyond loopback). Only what the proposal adds or changes is flagged: what the base
already had was reviewed when it came in.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from virtui.review.xmlsafe import parse_domain

if TYPE_CHECKING:
    from lxml import etree
else:
    from virtui.lazyimport import lxml_etree as etree

QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"


class DangerRefused(ValueError):
    """A change that is never merged (an emulator the host does not offer)."""


def _key(element: etree._Element) -> bytes:
    return bytes(etree.tostring(element, method="c14n"))


def _new(base: etree._Element, proposed: etree._Element, path: str) -> list[etree._Element]:
    """Elements at ``path`` in the proposal that the base does not have as they are."""
    old = {_key(e) for e in base.iterfind(path)}
    return [e for e in proposed.iterfind(path) if _key(e) not in old]


def _qemu_elements(root: etree._Element) -> list[etree._Element]:
    """Elements in libvirt's qemu: namespace (command-line passthrough and the like)."""
    return [e for e in root.iter() if isinstance(e.tag, str) and e.tag.startswith(f"{{{QEMU_NS}}}")]


def _loopback(address: str) -> bool:
    if address in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _in_pools(path: str, pool_paths: Iterable[str]) -> bool:
    real = os.path.normpath(path)
    return any(
        os.path.commonpath([real, os.path.normpath(pool)]) == os.path.normpath(pool)
        for pool in pool_paths
        if pool
    )


def new_disk_formats(base_xml: str, proposed_xml: str) -> list[tuple[str, str]]:
    """(source file, declared driver type) of the disks the proposal adds or changes."""
    found = []
    for disk in _new(parse_domain(base_xml), parse_domain(proposed_xml), "devices/disk"):
        source, driver = disk.find("source"), disk.find("driver")
        path = source.get("file", "") if source is not None else ""
        declared = driver.get("type", "raw") if driver is not None else "raw"
        if path and disk.get("device", "disk") in ("disk", "lun"):
            found.append((path, declared))
    return found


def emulator(xml: str) -> str:
    """The domain's ``<emulator>`` path ("" when it names none)."""
    return (parse_domain(xml).findtext("devices/emulator") or "").strip()


def check_emulator(base_xml: str, proposed_xml: str, emulators: Collection[str] | None) -> None:
    """Raise DangerRefused when the proposal names an emulator that is neither the
    base's nor one of the host's (``emulators`` None: the host could not say)."""
    new = emulator(proposed_xml)
    if not new or new == emulator(base_xml):
        return
    if emulators is None:
        raise DangerRefused(
            f"the emulator changes to {new}, and the host's emulators could not be read"
        )
    if new not in emulators:
        offered = ", ".join(sorted(emulators)) or "none"
        raise DangerRefused(
            f"the emulator {new} is not one of the host's ({offered}): libvirt would run it "
            "as root at define time"
        )


def warnings(
    base_xml: str, proposed_xml: str, pool_paths: Collection[str] | None = None
) -> list[str]:
    """What the proposal adds that reaches beyond the guest, one line each."""
    base, proposed = parse_domain(base_xml), parse_domain(proposed_xml)
    found: list[str] = []
    new_emulator = emulator(proposed_xml)
    if new_emulator != emulator(base_xml):
        found.append(f"emulator changed to {new_emulator or '(libvirt default)'}")
    qemu_old = {_key(e) for e in _qemu_elements(base)}
    if any(_key(e) not in qemu_old for e in _qemu_elements(proposed)):
        found.append("qemu: namespace passthrough (arguments go to QEMU unchecked)")
    for device in _new(base, proposed, "devices/hostdev"):
        found.append(f"host device passthrough (<hostdev type={device.get('type', '?')}>)")
    for device in _new(base, proposed, "devices/filesystem"):
        source = device.find("source")
        where = (source.get("dir") or source.get("file") or "") if source is not None else ""
        found.append(f"host filesystem passthrough ({where or 'a host path'})")
    for label in _new(base, proposed, "seclabel"):
        if label.get("type") == "none" or label.get("model") == "none":
            found.append("security label type='none': the guest runs unconfined")
    for script in _new(base, proposed, "devices/interface/script"):
        found.append(f"interface script {script.get('path', '')} runs on the host")
    for disk in _new(base, proposed, "devices/disk"):
        source = disk.find("source")
        path = (source.get("file") or source.get("dev") or "") if source is not None else ""
        if not path:
            continue
        if pool_paths is None:
            found.append(f"disk {path}: the host's pools could not be read to check it")
        elif not _in_pools(path, pool_paths):
            found.append(f"disk {path} is outside the host's storage pools")
    for kind in ("serial", "parallel", "console", "channel"):
        for device in _new(base, proposed, f"devices/{kind}"):
            source = device.find("source")
            if device.get("type") in ("file", "pipe", "unix", "dev") and source is not None:
                found.append(f"{kind} writes to the host path {source.get('path', '')}")
    for graphics in _new(base, proposed, "devices/graphics"):
        addresses = [graphics.get("listen", "")] + [
            listen.get("address", "")
            for listen in graphics.iterfind("listen")
            if listen.get("type") == "address"
        ]
        networks = [ls for ls in graphics.iterfind("listen") if ls.get("type") == "network"]
        wide = [a for a in addresses if not _loopback(a)]
        if wide or networks:
            where = ", ".join(wide) or "a network"
            found.append(f"{graphics.get('type', 'graphics')} console listens on {where}")
    return found
