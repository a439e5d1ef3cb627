"""A domain's persistent configuration, and the changes that can be made to it live."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DomainConfig:
    """The inactive, secure XML of a domain (the base a change is drafted on)."""

    xml: str
    active: bool
    name: str


@dataclass(frozen=True, slots=True)
class LiveChange:
    """One change applied to a running domain without a restart.

    kind: ``vcpus`` (number), ``memory`` (number, KiB), ``attach`` or ``detach`` (xml).
    """

    kind: str
    number: int = 0
    xml: str = ""


# What ``[review] forbid`` may name: the kinds of flag the host-safety check raises.
REACH_KINDS = {
    "qemu": "the qemu: namespace (arguments straight to QEMU)",
    "dnsmasq": "dnsmasq: options of a network (dnsmasq runs as root)",
    "passthrough": "host devices, filesystems, shared memory, input and memory sources",
    "host-path": "a host file or device: disks outside pools, firmware, kernels, logs",
    "script": "a program run on the host (interface scripts, a bootloader)",
    "host-network": "host network devices, switches and virtual ports",
    "listen": "a console listening beyond loopback",
    "confinement": "security labels, resource partitions, id maps",
    "emulator": "an emulator the host does not offer",
    "unlisted": "anything not on the allow-list (what libvirt adds later included)",
    "shared-disk": "a disk another domain has",
}


@dataclass(frozen=True, slots=True)
class DiskUser:
    """A domain with a disk at a path a proposal names."""

    path: str
    domain: str
    running: bool


@dataclass(frozen=True, slots=True)
class HostFacts:
    """What the review desk checks a proposal against (None: the host could not say).

    emulators: the emulator binaries the host's capabilities offer; pool_paths: the
    target directories of its storage pools.
    """

    emulators: frozenset[str] | None
    pool_paths: tuple[str, ...] | None
