"""Reading facts out of domain XML (defusedxml is not needed: libvirt wrote it)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from virtui.model.detail import GraphicsInfo


@dataclass(frozen=True, slots=True)
class DiskSpec:
    """A disk as the XML declares it."""

    target: str
    source: str
    device: str
    kind: str  # file, block, volume, network


@dataclass(frozen=True, slots=True)
class NicSpec:
    """A network interface as the XML declares it."""

    name: str
    mac: str
    source: str
    model: str


def disks(root: ET.Element) -> list[DiskSpec]:
    """Every disk of a domain."""
    out = []
    for disk in root.findall("./devices/disk"):
        source = disk.find("source")
        target = disk.find("target")
        path = ""
        if source is not None:
            path = source.get("file") or source.get("dev") or source.get("volume") or ""
            if not path and source.get("name"):
                path = f"{source.get('protocol', '')}:{source.get('name')}"
        out.append(
            DiskSpec(
                target=target.get("dev", "") if target is not None else "",
                source=path,
                device=disk.get("device", "disk"),
                kind=disk.get("type", "file"),
            )
        )
    return out


def nics(root: ET.Element) -> list[NicSpec]:
    """Every network interface of a domain."""
    out = []
    for nic in root.findall("./devices/interface"):
        mac = nic.find("mac")
        source = nic.find("source")
        target = nic.find("target")
        model = nic.find("model")
        src = ""
        if source is not None:
            src = source.get("network") or source.get("bridge") or source.get("dev") or ""
        out.append(
            NicSpec(
                name=target.get("dev", "") if target is not None else "",
                mac=mac.get("address", "") if mac is not None else "",
                source=f"{nic.get('type', '')}:{src}" if src else nic.get("type", ""),
                model=model.get("type", "") if model is not None else "",
            )
        )
    return out


def graphics(root: ET.Element) -> list[GraphicsInfo]:
    """Graphical consoles with a port (autoport ones only once the guest runs)."""
    out = []
    for item in root.findall("./devices/graphics"):
        port = int(item.get("port", "-1") or -1)
        if port > 0:
            out.append(GraphicsInfo(item.get("type", ""), item.get("listen", "127.0.0.1"), port))
    return out


def has_text_console(root: ET.Element) -> bool:
    """True when the domain has a serial port or console libvirt can attach to."""
    return root.find("./devices/console") is not None or root.find("./devices/serial") is not None
