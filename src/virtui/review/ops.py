"""Typed edits of a domain's configuration, and what each needs to take effect.

Each operation changes a tree parsed from the canonical base XML, so the diff shows
only what the user changed; replaying the operations on a newer base is a rebase.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from virtui.formatting import format_kib
from virtui.model.config import LiveChange
from virtui.review.netops import (
    NETWORK_OPS,
    AddDhcpHost,
    RemoveDhcpHost,
    SetDhcpRange,
    SetForward,
    raw_network_plan,
)
from virtui.review.newguest import CreateDomain
from virtui.review.opbase import NEEDS_RESTART, NET_RESTART, PENDING_RESTART, Conflict, PlanItem
from virtui.review.xmlsafe import XmlRefused, parse_config, parse_domain, to_text

if TYPE_CHECKING:
    from lxml import etree
else:
    from virtui.lazyimport import lxml_etree as etree

__all__ = ["NEEDS_RESTART", "NET_RESTART", "PENDING_RESTART", "Conflict", "PlanItem"]


def _vcpus(root: etree._Element) -> tuple[int, int]:
    element = root.find("vcpu")
    if element is None:
        raise XmlRefused("the domain has no <vcpu> element")
    if not (element.text or "").strip().isdigit() or int(element.text or "0") < 1:
        raise XmlRefused(f"<vcpu>{element.text}</vcpu>: the vCPU count must be a positive number")
    maximum = int(element.text or "0")
    return int(element.get("current", maximum)), maximum


def _memory(root: etree._Element) -> tuple[int, int]:
    def kib(tag: str) -> int:
        element = root.find(tag)
        if element is None:
            return 0
        factor = {"KiB": 1, "k": 1, "MiB": 1024, "M": 1024, "GiB": 1024**2, "G": 1024**2}
        return int(element.text or "0") * factor.get(element.get("unit", "KiB"), 1)

    maximum = kib("memory")
    return kib("currentMemory") or maximum, maximum


@dataclass(frozen=True, slots=True)
class SetVcpus:
    """Set the vCPU count (and the maximum, when given)."""

    count: int
    maximum: int | None = None
    kind: str = "vcpus"

    def check(self) -> None:
        top = self.maximum if self.maximum is not None else self.count
        if self.count < 1 or top < 1:
            raise XmlRefused("a domain needs at least 1 vCPU")
        if self.maximum is not None and self.count > self.maximum:
            raise XmlRefused(f"{self.count} vCPUs is more than the maximum {self.maximum}")

    def apply(self, root: etree._Element, old_base: etree._Element | None = None) -> None:
        self.check()
        if old_base is not None and _vcpus(old_base) != _vcpus(root):
            raise Conflict(f"vCPUs changed meanwhile: {_vcpus(old_base)} → {_vcpus(root)}")
        element = root.find("vcpu")
        _current, maximum = _vcpus(root)
        maximum = self.maximum if self.maximum is not None else maximum
        if self.count > maximum:
            raise XmlRefused(f"{self.count} vCPUs is more than the maximum {maximum}")
        assert element is not None
        element.text = str(maximum)
        if self.count == maximum:
            element.attrib.pop("current", None)
        else:
            element.set("current", str(self.count))

    def plan(self, base: etree._Element, active: bool) -> list[PlanItem]:
        current, maximum = _vcpus(base)
        items = []
        if self.maximum is not None and self.maximum != maximum:
            items.append(PlanItem(f"vcpu max {maximum}→{self.maximum}: {NEEDS_RESTART}", None))
        if self.count != current:
            within = self.count <= maximum
            live = LiveChange("vcpus", self.count) if active and within else None
            how = "live" if live else (NEEDS_RESTART if active else "at next start")
            items.append(PlanItem(f"vcpu {current}→{self.count}: {how}", live))
        return items


@dataclass(frozen=True, slots=True)
class SetMemory:
    """Set the memory (KiB), and the maximum when given."""

    kib: int
    max_kib: int | None = None
    kind: str = "memory"

    def apply(self, root: etree._Element, old_base: etree._Element | None = None) -> None:
        if self.kib < 1024:
            raise XmlRefused("a domain needs at least 1 MiB of memory")
        if old_base is not None and _memory(old_base) != _memory(root):
            raise Conflict("memory changed meanwhile")
        _current, maximum = _memory(root)
        maximum = self.max_kib if self.max_kib is not None else maximum
        if self.kib > maximum:
            raise XmlRefused(
                f"{format_kib(self.kib)} is more than the maximum {format_kib(maximum)}"
            )
        for tag, value in (("memory", maximum), ("currentMemory", self.kib)):
            element = root.find(tag)
            if element is None:
                element = etree.SubElement(root, tag)
            element.set("unit", "KiB")
            element.text = str(value)

    def plan(self, base: etree._Element, active: bool) -> list[PlanItem]:
        current, maximum = _memory(base)
        items = []
        if self.max_kib is not None and self.max_kib != maximum:
            items.append(
                PlanItem(
                    f"memory max {format_kib(maximum)}→{format_kib(self.max_kib)}: {NEEDS_RESTART}",
                    None,
                )
            )
        if self.kib != current:
            live = LiveChange("memory", self.kib) if active and self.kib <= maximum else None
            how = "live" if live else (NEEDS_RESTART if active else "at next start")
            items.append(
                PlanItem(f"memory {format_kib(current)}→{format_kib(self.kib)}: {how}", live)
            )
        return items


def _device_label(device: etree._Element) -> str:
    target = device.find("target")
    source = device.find("source")
    mac = device.find("mac")
    where = ""
    if device.tag == "interface" and mac is not None:  # NICs are told apart by MAC
        where = " ".join(w for w in (_source_of(source), mac.get("address", "").lower()) if w)
    elif target is not None and target.get("dev"):
        where = target.get("dev", "")
    elif source is not None:
        where = source.get("file") or source.get("network") or source.get("bridge") or ""
    return f"{device.tag} {where}".strip()


def _source_of(source: etree._Element | None) -> str:
    if source is None:
        return ""
    return source.get("file") or source.get("network") or source.get("bridge") or ""


@dataclass(frozen=True, slots=True)
class AttachDevice:
    """Add a device (its XML, e.g. a <disk> or an <interface>)."""

    xml: str
    kind: str = "attach"

    def _device(self) -> etree._Element:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        if "<!DOCTYPE" in self.xml or "<!ENTITY" in self.xml:
            raise XmlRefused("the device XML has a DOCTYPE or entities: not accepted")
        try:
            return etree.fromstring(self.xml.encode("utf-8"), parser)
        except etree.XMLSyntaxError as error:
            raise XmlRefused(f"the device XML is not well-formed: {error}") from error

    def apply(self, root: etree._Element, old_base: etree._Element | None = None) -> None:
        devices = root.find("devices")
        if devices is None:
            devices = etree.SubElement(root, "devices")
        device = self._device()
        target = device.find("target")
        if target is not None and target.get("dev"):
            for disk in devices.findall(f"{device.tag}/target"):
                if disk.get("dev") == target.get("dev"):
                    raise Conflict(f"{device.tag} {target.get('dev')} exists already")
        devices.append(device)

    def plan(self, base: etree._Element, active: bool) -> list[PlanItem]:
        live = LiveChange("attach", xml=self.xml) if active else None
        how = "hot-plugged" if live else "at next start"
        return [PlanItem(f"add {_device_label(self._device())}: {how}", live)]


@dataclass(frozen=True, slots=True)
class DetachDevice:
    """Remove the device whose XML (as in the base) is given."""

    xml: str
    kind: str = "detach"

    def apply(self, root: etree._Element, old_base: etree._Element | None = None) -> None:
        wanted = etree.fromstring(self.xml.encode("utf-8"))
        devices = root.find("devices")
        for device in list(devices if devices is not None else []):
            if device.tag == wanted.tag and _device_label(device) == _device_label(wanted):
                assert devices is not None
                devices.remove(device)
                return
        raise Conflict(f"{_device_label(wanted)} is no longer in the configuration")

    def plan(self, base: etree._Element, active: bool) -> list[PlanItem]:
        live = LiveChange("detach", xml=self.xml) if active else None
        label = _device_label(etree.fromstring(self.xml.encode("utf-8")))
        return [PlanItem(f"remove {label}: {'hot-unplugged' if live else 'at next start'}", live)]


@dataclass(frozen=True, slots=True)
class RawXml:
    """A whole new XML, as edited in $EDITOR."""

    proposed: str
    kind: str = "raw"

    def apply(self, root: etree._Element, old_base: etree._Element | None = None) -> None:
        raise NotImplementedError  # replaced whole; rebased as a patch (see desk)

    def plan(self, base: etree._Element, active: bool) -> list[PlanItem]:
        if base.tag == "network":
            return raw_network_plan(base, parse_config(self.proposed, "network"), active)
        new = parse_domain(self.proposed)
        items: list[PlanItem] = []
        if _vcpus(new) != _vcpus(base):
            items.append(PlanItem(f"vcpu {_vcpus(base)[0]}→{_vcpus(new)[0]} (XML edit)", None))
        if _memory(new) != _memory(base):
            items.append(
                PlanItem(
                    f"memory {format_kib(_memory(base)[0])}→{format_kib(_memory(new)[0])} "
                    "(XML edit)",
                    None,
                )
            )
        old_devices = {_device_label(d) for d in base.findall("devices/*")}
        new_devices = {_device_label(d) for d in new.findall("devices/*")}
        items += [PlanItem(f"add {label} (XML edit)", None) for label in new_devices - old_devices]
        items += [
            PlanItem(f"remove {label} (XML edit)", None) for label in old_devices - new_devices
        ]
        if not items:
            items.append(PlanItem("XML edit", None))
        suffix = f": {NEEDS_RESTART}" if active else ": at next start"
        return [PlanItem(item.text + suffix, None) for item in items]


Op = (
    SetVcpus
    | SetMemory
    | AttachDevice
    | DetachDevice
    | RawXml
    | AddDhcpHost
    | RemoveDhcpHost
    | SetDhcpRange
    | SetForward
    | CreateDomain
)
_KINDS: dict[str, type[Any]] = {
    "vcpus": SetVcpus,
    "memory": SetMemory,
    "attach": AttachDevice,
    "detach": DetachDevice,
    "raw": RawXml,
    **NETWORK_OPS,
    "create": CreateDomain,
}


def propose(base_xml: str, ops: list[Op], old_base_xml: str | None = None) -> str:
    """The proposed XML: ``ops`` applied to the base (conflicts checked against the old
    base when rebasing)."""
    raw = [op for op in ops if isinstance(op, RawXml)]
    created = [op for op in ops if isinstance(op, CreateDomain)]
    if created:  # a new domain: proposed whole, on no base
        parse_domain(created[-1].xml)
        return created[-1].xml
    root = parse_config(base_xml)
    if raw:
        parse_config(raw[-1].proposed, str(root.tag))
        return raw[-1].proposed
    old = parse_config(old_base_xml, str(root.tag)) if old_base_xml is not None else None
    for op in ops:
        op.apply(root, old)
    return to_text(root)


def plan(base_xml: str, ops: list[Op], active: bool) -> list[PlanItem]:
    """The summary of ``ops`` against the base, for a running or shut-off domain (or an
    active or inactive network)."""
    if not base_xml.strip():  # a new domain
        return [
            item for op in ops if isinstance(op, CreateDomain) for item in op.plan(None, active)
        ]
    base = parse_config(base_xml)
    return [item for op in ops for item in op.plan(base, active)]


def ops_to_json(ops: list[Op]) -> str:
    """The operations as stored."""
    return json.dumps([asdict(op) for op in ops])


def ops_from_json(text: str) -> list[Op]:
    """The operations back from storage (or a patch file)."""
    ops: list[Op] = []
    for item in json.loads(text):
        kind = item.get("kind")
        if kind not in _KINDS:
            raise XmlRefused(f"unknown operation {kind!r}")
        ops.append(_KINDS[kind](**item))
    return ops


@dataclass(frozen=True, slots=True)
class Counts:
    """What the edit dialogs show as "now"."""

    vcpus: tuple[int, int]  # current, maximum
    memory_kib: tuple[int, int]  # current, maximum
    disk_targets: frozenset[str]


def current_counts(xml: str) -> Counts:
    """vCPUs, memory and disk device names of a domain XML."""
    root = parse_domain(xml)
    targets = frozenset(target.get("dev", "") for target in root.findall("devices/disk/target"))
    return Counts(_vcpus(root), _memory(root), targets)


@dataclass(frozen=True, slots=True)
class DomainNic:
    """A NIC of a domain XML, as the remove-NIC dialog lists it."""

    mac: str
    source: str  # network:NAME or bridge:NAME (or the interface type)
    model: str
    xml: str  # the <interface> element, for DetachDevice


def current_nics(xml: str) -> list[DomainNic]:
    """The NICs of a domain XML, in order."""
    found = []
    for interface in parse_domain(xml).findall("devices/interface"):
        source = interface.find("source")
        mac = interface.find("mac")
        model = interface.find("model")
        kind = interface.get("type", "")
        where = source.get(kind, "") if source is not None and kind in ("network", "bridge") else ""
        element = copy.deepcopy(interface)
        element.tail = None
        found.append(
            DomainNic(
                mac=(mac.get("address", "") if mac is not None else "").lower(),
                source=f"{kind}:{where}" if where else kind,
                model=model.get("type", "") if model is not None else "",
                xml=to_text(element),
            )
        )
    return found
