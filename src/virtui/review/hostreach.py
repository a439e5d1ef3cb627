"""What a configuration reaches beyond its guest: an allow-list of libvirt XML.

Every element a proposal adds or changes (for a new domain or network: every element)
is held against the tables below, which list what is known to stay inside the guest:
the element (by its path from the root), the attributes it may carry, and for a few of
them which values. Whatever is not listed is flagged, naming the element and why: a
host path, a program, a socket, a host device, a security label, an address beyond
loopback, and whatever libvirt's schema adds in a later release. A flagged change is
merged only when the person merging accepts each flag (``--accept-warnings``, or
typing the domain's name in the TUI); ``[review] forbid`` refuses kinds outright.

Extending the list: add the element's path to ``DOMAIN`` or ``NETWORK`` with the
attributes that stay in the guest (``ANY`` for every attribute, ``FREE`` for a whole
subtree), and a check for each attribute whose value decides (docs/review.md).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lxml import etree
else:
    from virtui.lazyimport import lxml_etree as etree

QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"
DNSMASQ_NS = "http://libvirt.org/schemas/network/dnsmasq/1.0"

# Why an attribute's value is refused ("" when it passes); the element gives context.
Check = Callable[[str, "etree._Element", "Context"], str]


@dataclass(frozen=True)
class Context:
    """What some checks need to know of the host: its pools' paths and the emulators it
    offers (None: unknown)."""

    pool_paths: Collection[str] | None
    emulators: Collection[str] | None = None


def _one_of(*allowed: str) -> Check:
    def check(value: str, _element: etree._Element, _context: Context) -> str:
        return "" if value in allowed else f"{value!r} is not one of {', '.join(allowed)}"

    return check


def _loopback(address: str) -> bool:
    if address in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _loopback_only(value: str, _element: etree._Element, _context: Context) -> str:
    return "" if _loopback(value) else f"listens on {value}"


def in_pools(path: str, pool_paths: Iterable[str]) -> bool:
    """Whether ``path`` lies inside one of the pools' folders."""
    real = os.path.normpath(path)
    return any(
        os.path.commonpath([real, os.path.normpath(pool)]) == os.path.normpath(pool)
        for pool in pool_paths
        if pool
    )


def _pool_file(value: str, _element: etree._Element, context: Context) -> str:
    if context.pool_paths is None:
        return f"disk {value}: the host's pools could not be read to check it"
    if not in_pools(value, context.pool_paths):
        return f"disk {value} is outside the host's storage pools"
    return ""


def _random_source(value: str, _element: etree._Element, _context: Context) -> str:
    return "" if value in ("", "/dev/urandom", "/dev/random") else f"reads the host's {value}"


def _host_emulator(value: str, _element: etree._Element, context: Context) -> str:
    if context.emulators is not None and value in context.emulators:
        return ""  # one the host offers itself
    if context.emulators is None:
        return f"emulator changed to {value}: the host's emulators could not be read"
    return f"emulator changed to {value}: not one of the host's, libvirt would run it as root"


TEXT = "#text"  # in a rule: the check of the element's text
ANY: Mapping[str, Check | None] = {"*": None}  # every attribute, any value
FREE = "free"  # the whole subtree stays in the guest
Rule = Mapping[str, Check | None] | str

# Where a device sits on the guest's buses, and its name: any device may carry them.
_PLACEMENT = ("address", "alias", "acpi")


def _device(**attributes: Check | None) -> dict[str, Check | None]:
    """The attributes a device element may carry."""
    return dict(attributes)


# Paths below the root element; "" is the root itself. A child path not listed is
# flagged; an attribute not listed is flagged.
DOMAIN: dict[str, Rule] = {
    "": {"type": _one_of("kvm", "qemu", "test"), "id": None},
    "name": {},
    "uuid": {},
    "genid": {},
    "title": {},
    "description": {},
    "metadata": FREE,
    "maxMemory": {"slots": None, "unit": None},
    "memory": {"unit": None, "dumpCore": None},
    "currentMemory": {"unit": None},
    "vcpu": {"placement": None, "cpuset": None, "current": None},
    "vcpus": {},
    "vcpus/vcpu": ANY,
    "iothreads": {},
    "iothreadids": FREE,
    "cputune": FREE,
    "memtune": FREE,
    "numatune": FREE,
    "memoryBacking": FREE,
    "blkiotune": {},
    "blkiotune/weight": {},
    "sysinfo": FREE,
    "os": {"firmware": _one_of("bios", "efi")},
    "os/type": {"arch": None, "machine": None},
    "os/boot": {"dev": None},
    "os/bootmenu": {"enable": None, "timeout": None},
    "os/smbios": {"mode": None},
    "os/bios": {"useserial": None, "rebootTimeout": None},
    "os/cmdline": {},
    "os/firmware": FREE,
    "features": FREE,
    "cpu": FREE,
    "clock": FREE,
    "on_poweroff": {},
    "on_reboot": {},
    "on_crash": {},
    "on_lockfailure": {},
    "pm": FREE,
    "perf": FREE,
    "keywrap": FREE,
    "throttlegroups": FREE,
    "devices": {},
    "devices/emulator": {TEXT: _host_emulator},
    "devices/disk": {
        "type": _one_of("file", "volume"),
        "device": _one_of("disk", "cdrom", "floppy"),
        "model": None,
        "snapshot": None,
    },
    "devices/disk/driver": ANY,
    "devices/disk/driver/iothreads": FREE,
    "devices/disk/driver/metadata_cache": FREE,
    "devices/disk/source": {
        "file": _pool_file,
        "pool": None,
        "volume": None,
        "mode": None,
        "startupPolicy": None,
        "index": None,
    },
    "devices/disk/target": {
        "dev": None,
        "bus": None,
        "tray": None,
        "removable": None,
        "rotation_rate": None,
    },
    "devices/disk/readonly": {},
    "devices/disk/shareable": {},
    "devices/disk/transient": ANY,
    "devices/disk/serial": {},
    "devices/disk/wwn": {},
    "devices/disk/vendor": {},
    "devices/disk/product": {},
    "devices/disk/boot": {"order": None, "loadparm": None},
    "devices/disk/iotune": FREE,
    "devices/disk/blockio": ANY,
    "devices/disk/geometry": ANY,
    "devices/disk/address": ANY,
    "devices/disk/alias": {"name": None},
    "devices/controller": FREE,
    "devices/interface": _device(
        type=_one_of("network", "bridge", "user"), trustGuestRxFilters=None
    ),
    "devices/interface/source": {"network": None, "bridge": None, "portgroup": None},
    "devices/interface/mac": {"address": None},
    "devices/interface/model": {"type": None},
    "devices/interface/driver": FREE,
    "devices/interface/boot": {"order": None},
    "devices/interface/rom": {"bar": None, "enabled": None},
    "devices/interface/link": {"state": None},
    "devices/interface/mtu": {"size": None},
    "devices/interface/bandwidth": FREE,
    "devices/interface/vlan": FREE,
    "devices/interface/filterref": FREE,
    "devices/interface/coalesce": FREE,
    "devices/interface/tune": FREE,
    "devices/interface/ip": FREE,
    "devices/interface/route": FREE,
    "devices/interface/port": {"isolated": None},
    "devices/interface/teaming": FREE,
    "devices/interface/address": ANY,
    "devices/interface/alias": {"name": None},
    "devices/graphics": {
        "type": _one_of("vnc", "spice"),
        "port": None,
        "autoport": None,
        "tlsPort": None,
        "listen": _loopback_only,
        "passwd": None,
        "passwdValidTo": None,
        "connected": None,
        "keymap": None,
        "sharePolicy": None,
        "defaultMode": None,
        "powerControl": None,
        "websocket": None,
    },
    "devices/graphics/listen": {"type": _one_of("address", "none"), "address": _loopback_only},
    "devices/graphics/image": ANY,
    "devices/graphics/jpeg": ANY,
    "devices/graphics/zlib": ANY,
    "devices/graphics/playback": ANY,
    "devices/graphics/streaming": ANY,
    "devices/graphics/clipboard": ANY,
    "devices/graphics/mouse": ANY,
    "devices/graphics/filetransfer": ANY,
    "devices/graphics/channel": ANY,
    "devices/graphics/gl": {"enable": None},
    "devices/graphics/audio": {"id": None},
    "devices/video": _device(),
    "devices/video/model": {
        "type": None,
        "vram": None,
        "heads": None,
        "primary": None,
        "ram": None,
        "vgamem": None,
        "vram64": None,
        "blob": None,
    },
    "devices/video/model/acceleration": {"accel3d": None, "accel2d": None},
    "devices/video/driver": {"name": _one_of("qemu")},
    "devices/input": _device(type=_one_of("tablet", "mouse", "keyboard"), bus=None),
    "devices/input/model": ANY,
    "devices/input/driver": ANY,
    "devices/sound": _device(model=None),
    "devices/sound/codec": {"type": None},
    "devices/sound/audio": {"id": None},
    "devices/audio": {"type": _one_of("none", "spice"), "id": None},
    "devices/memballoon": _device(model=None, autodeflate=None, freePageReporting=None),
    "devices/memballoon/stats": {"period": None},
    "devices/memballoon/driver": ANY,
    "devices/watchdog": _device(model=None, action=None),
    "devices/panic": _device(model=None),
    "devices/rng": _device(model=None),
    "devices/rng/backend": {"model": _one_of("random", "builtin")},
    "devices/rng/rate": ANY,
    "devices/rng/driver": ANY,
    "devices/tpm": _device(model=None),
    "devices/tpm/backend": {"type": _one_of("emulator"), "version": None, "persistent_state": None},
    "devices/tpm/backend/active_pcr_banks": FREE,
    "devices/vsock": _device(model=None),
    "devices/vsock/cid": {"auto": None, "address": None},
    "devices/iommu": FREE,
    "devices/redirdev": _device(bus=None, type=_one_of("spicevmc")),
    "devices/redirdev/boot": {"order": None},
    "devices/redirfilter": FREE,
    "devices/hub": _device(type=None),
    "devices/memory": _device(model=_one_of("dimm", "virtio-mem"), access=None, discard=None),
    "devices/memory/target": FREE,
}
# Character devices: a pseudo-terminal or a channel of the graphics console, or a
# socket libvirt names and keeps in its own folder (a unix source without a path).
for _kind in ("serial", "console", "parallel", "channel"):
    DOMAIN[f"devices/{_kind}"] = _device(
        type=_one_of("pty", "spicevmc", "qemu-vdagent", "unix", "null", "vc"), tty=None
    )
    DOMAIN[f"devices/{_kind}/target"] = FREE
    DOMAIN[f"devices/{_kind}/source"] = {"mode": _one_of("bind")}

NETWORK: dict[str, Rule] = {
    "": {"connections": None, "ipv6": None, "trustGuestRxFilters": None},
    "name": {},
    "uuid": {},
    "title": {},
    "description": {},
    "metadata": FREE,
    "forward": {"mode": _one_of("nat", "route", "open")},
    "forward/nat": FREE,
    "bridge": {"name": None, "stp": None, "delay": None, "macTableManager": None, "zone": None},
    "mtu": {"size": None},
    "mac": {"address": None},
    "domain": {"name": None, "localOnly": None, "register": None},
    "dns": FREE,
    "ip": {"address": None, "netmask": None, "prefix": None, "family": None, "localPtr": None},
    "ip/dhcp": {},
    "ip/dhcp/range": FREE,
    "ip/dhcp/host": ANY,
    "route": ANY,
    "bandwidth": FREE,
    "portgroup": FREE,
    "port": {"isolated": None},
}

# Words for the elements most often met off the list (the generic line names any other).
_WHY = {
    "devices/hostdev": "host device passthrough",
    "devices/filesystem": "host filesystem passthrough",
    "devices/shmem": "a shared-memory object on the host",
    "devices/smartcard": "the host's smartcard or certificates",
    "devices/crypto": "a host crypto backend",
    "devices/lease": "a lock file on the host",
    "devices/interface/script": "runs on the host",
    "devices/interface/downscript": "runs on the host",
    "devices/interface/backend": "names host devices for the interface",
    "devices/interface/target": "names a host network device",
    "devices/interface/virtualport": "plugs into a host switch",
    "devices/disk/backingStore": "a backing image on the host",
    "devices/disk/mirror": "a copy to a host path",
    "devices/input/source": "a host input device",
    "devices/memory/source": "a host file or device backs the guest's memory",
    "os/loader": "firmware from a host path",
    "os/nvram": "a host file for the firmware's variables",
    "os/kernel": "a kernel from a host path",
    "os/initrd": "an initrd from a host path",
    "os/dtb": "a device tree from a host path",
    "os/acpi": "ACPI tables from a host path",
    "seclabel": "a security label (confinement of the guest's process)",
    "resource": "a host resource partition",
    "blkiotune/device": "names a host block device",
    "idmap": "maps host user ids",
    "bootloader": "runs a host program",
    "ip/tftp": "dnsmasq serves a host folder",
    "forward/interface": "names a host network device",
    "forward/pf": "names a host network device",
    "virtualport": "plugs into a host switch",
}


# The kind of each flagged element ([review] forbid names kinds: REACH_KINDS).
_KIND = {
    "devices/hostdev": "passthrough",
    "devices/filesystem": "passthrough",
    "devices/shmem": "passthrough",
    "devices/smartcard": "passthrough",
    "devices/crypto": "passthrough",
    "devices/input/source": "passthrough",
    "devices/memory/source": "passthrough",
    "blkiotune/device": "passthrough",
    "devices/lease": "host-path",
    "devices/disk/backingStore": "host-path",
    "devices/disk/mirror": "host-path",
    "os/loader": "host-path",
    "os/nvram": "host-path",
    "os/kernel": "host-path",
    "os/initrd": "host-path",
    "os/dtb": "host-path",
    "os/acpi": "host-path",
    "ip/tftp": "host-path",
    "devices/interface/script": "script",
    "devices/interface/downscript": "script",
    "bootloader": "script",
    "devices/interface/backend": "host-network",
    "devices/interface/target": "host-network",
    "devices/interface/virtualport": "host-network",
    "forward/interface": "host-network",
    "forward/pf": "host-network",
    "virtualport": "host-network",
    "seclabel": "confinement",
    "resource": "confinement",
    "idmap": "confinement",
}
_CHECK_KIND: dict[Check, str] = {
    _host_emulator: "emulator",
    _loopback_only: "listen",
    _pool_file: "host-path",
    _random_source: "host-path",
}


@dataclass(frozen=True, slots=True)
class Reach:
    """One flagged element: its kind (one of REACH_KINDS) and what to say."""

    kind: str
    text: str


def _path(parent: str, element: etree._Element) -> str:
    tag = etree.QName(element).localname
    return f"{parent}/{tag}" if parent else tag


def _signature(element: etree._Element) -> bytes:
    return bytes(etree.tostring(element, method="c14n"))


def _named(element: etree._Element) -> str:
    source = element.find("source")
    where = ""
    if source is not None:
        where = source.get("path") or source.get("dir") or source.get("file") or ""
    return where or (element.text or "").strip()


def _flag(path: str, element: etree._Element, why: str) -> str:
    """One line: what the element is, where it points, and why it reaches the host."""
    if path == "devices/hostdev":
        return f"host device passthrough (<hostdev type={element.get('type', '?')}>)"
    if path == "devices/filesystem":
        return f"host filesystem passthrough ({_named(element) or 'a host path'})"
    if path in ("devices/interface/script", "devices/interface/downscript"):
        script = etree.QName(element).localname
        return f"interface {script} {element.get('path', '')} runs on the host"
    if path == "seclabel" and "none" in (element.get("type"), element.get("model")):
        return "security label type='none': the guest runs unconfined"
    return f"<{path}> {why}"


class _Walk:
    def __init__(self, rules: Mapping[str, Rule], context: Context) -> None:
        self.rules = rules
        self.context = context
        self.found: list[Reach] = []

    def add(self, kind: str, text: str) -> None:
        self.found.append(Reach(kind, text))

    def element(self, path: str, element: etree._Element, base: list[etree._Element]) -> None:
        """Check ``element`` (at ``path``) unless the base has it as it is; its children
        against the base's children at the same path."""
        if not isinstance(element.tag, str):
            return  # a comment or processing instruction
        signature = _signature(element)
        if any(_signature(old) == signature for old in base):
            return
        namespace = etree.QName(element).namespace
        if namespace and path != "metadata":
            if namespace == QEMU_NS:
                self.add("qemu", "qemu: namespace passthrough (arguments go to QEMU unchecked)")
            elif namespace == DNSMASQ_NS:
                self.add("dnsmasq", "dnsmasq: options passed to dnsmasq, which runs as root")
            else:
                self.add("unlisted", f"<{path}> in namespace {namespace}: not on the allow-list")
            return
        rule = self.rules.get(path)
        parent, _slash, tag = path.rpartition("/")
        if rule is None and tag in _PLACEMENT and parent in self.rules:
            rule = ANY
        if rule is None:
            why = _WHY.get(path, "is not on the host-safety allow-list (it may reach the host)")
            self.add(_KIND.get(path, "unlisted"), _flag(path, element, why))
            return
        if rule == FREE:
            return
        assert not isinstance(rule, str)
        self._attributes(path, element, rule)
        self._character_device(path, element)
        self._rng(path, element)
        children_of_base = [child for old in base for child in old]
        for child in element:
            if not isinstance(child.tag, str):
                continue
            child_path = _path(path, child)
            same_place = [
                old for old in children_of_base if isinstance(old.tag, str) and old.tag == child.tag
            ]
            self.element(child_path, child, same_place)

    def _attributes(
        self, path: str, element: etree._Element, rule: Mapping[str, Check | None]
    ) -> None:
        text_check = rule.get(TEXT)
        if text_check is not None:
            why = text_check((element.text or "").strip(), element, self.context)
            if why:
                self.add(_CHECK_KIND.get(text_check, "host-path"), why)
        for name, value in element.attrib.items():
            local = etree.QName(name).localname
            if "*" in rule:
                continue
            if local not in rule:
                self.add(
                    "unlisted",
                    f"<{path} {local}='{value}'>: the attribute is not on the allow-list",
                )
                continue
            check = rule[local]
            why = check(value, element, self.context) if check is not None else ""
            if not why:
                continue
            if check is _loopback_only:  # a graphics console or one of its listens
                graphics = element if path.endswith("graphics") else element.getparent()
                kind = graphics.get("type", "graphics") if graphics is not None else "graphics"
                self.add("listen", f"{kind} console {why}")
            elif check is _pool_file:
                self.add("host-path", why)
            else:
                assert check is not None  # a None check never says why
                self.add(_CHECK_KIND.get(check, "host-path"), f"<{path} {local}='{value}'>: {why}")

    def _character_device(self, path: str, element: etree._Element) -> None:
        kind = path.rpartition("/")[2]
        if kind == "source" and path.rpartition("/")[0].rpartition("/")[2] in (
            "serial",
            "console",
            "parallel",
            "channel",
        ):
            device = path.rpartition("/")[0].rpartition("/")[2]
            where = element.get("path")
            if where:
                self.add("host-path", f"{device} writes to the host path {where}")

    def _rng(self, path: str, element: etree._Element) -> None:
        if path == "devices/rng/backend":
            why = _random_source((element.text or "").strip(), element, self.context)
            if why:
                self.add("host-path", f"<{path}> {why}")


def _reach(
    rules: Mapping[str, Rule], base_xml: str, proposed_xml: str, context: Context
) -> list[Reach]:
    from virtui.review.xmlsafe import parse_config

    proposed = parse_config(proposed_xml)
    base = [parse_config(base_xml)] if base_xml.strip() else []
    walk = _Walk(rules, context)
    walk.element("", proposed, base)
    # The same line from two places (a disk's source and its copy) is said once.
    return list(dict.fromkeys(walk.found))


def domain_reach_kinds(
    base_xml: str,
    proposed_xml: str,
    pool_paths: Collection[str] | None = None,
    emulators: Collection[str] | None = None,
) -> list[Reach]:
    """What a domain proposal adds or changes that reaches beyond the guest, each with
    its kind (for ``[review] forbid``)."""
    return _reach(DOMAIN, base_xml, proposed_xml, Context(pool_paths, emulators))


def domain_reach(
    base_xml: str,
    proposed_xml: str,
    pool_paths: Collection[str] | None = None,
    emulators: Collection[str] | None = None,
) -> list[str]:
    """What a domain proposal adds or changes that reaches beyond the guest, one line
    each (``base_xml`` empty: a new domain, every element is checked)."""
    return [r.text for r in domain_reach_kinds(base_xml, proposed_xml, pool_paths, emulators)]


def network_reach_kinds(base_xml: str, proposed_xml: str) -> list[Reach]:
    """What a network proposal reaches beyond its bridge, each with its kind."""
    return _reach(NETWORK, base_xml, proposed_xml, Context(None))


def network_reach(base_xml: str, proposed_xml: str) -> list[str]:
    """What a network proposal adds or changes that reaches beyond its bridge."""
    return [r.text for r in network_reach_kinds(base_xml, proposed_xml)]
