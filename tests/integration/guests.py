"""Throw-away QEMU guests in the shared embedded root, for operation tests."""

from __future__ import annotations

import itertools
from pathlib import Path

import libvirt

from virtui.backends.libvirt.bootsector import IDLE_CODE, write_image
from virtui.backends.libvirt.demo import guest_xml

_numbers = itertools.count(1)
TEST_PREFIX = "virtui-test-"


def define_guest(
    conn: libvirt.virConnect, directory: Path, *, running: bool = False, disk: bool = True
) -> libvirt.virDomain:
    """Define (and optionally start) an idle guest; ``disk=False`` points at a missing image."""
    name = f"{TEST_PREFIX}{next(_numbers)}-{directory.name[-12:]}"
    image = directory / f"{name}.img"
    if disk:
        write_image(image, IDLE_CODE)
    xml = guest_xml(name, image, 1, 32)
    dom = conn.defineXMLFlags(xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
    if running:
        dom.create()
    return dom


def remove_test_guests(conn: libvirt.virConnect) -> None:
    """Destroy and undefine every guest these tests defined."""
    for dom in conn.listAllDomains(0):
        if dom.name().startswith(TEST_PREFIX):
            try:
                if dom.isActive():
                    dom.destroy()
                dom.undefineFlags(
                    libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                    | libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
                )
            except libvirt.libvirtError:
                pass  # already gone


def define_io_guest(
    conn: libvirt.virConnect, directory: Path, code: bytes, *, tap: str | None = None
) -> libvirt.virDomain:
    """Start a guest that runs ``code`` from a 1 MiB disk, with an RTL8139 NIC on a new
    tap device ``tap`` when given. With no driver in the guest the RTL8139 takes every
    frame the host sends to the tap and drops it, so its counters move."""
    name = f"{TEST_PREFIX}{next(_numbers)}-{directory.name[-12:]}"
    image = write_image(directory / f"{name}.img", code, sectors=2048)
    nic = (
        f"<interface type='ethernet'><target dev='{tap}'/><model type='rtl8139'/></interface>"
        if tap
        else ""
    )
    xml = guest_xml(name, image, 1, 32, devices=nic)
    dom = conn.defineXMLFlags(xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
    dom.create()
    return dom


def define_dir_pool(uri: str, name: str, directory: Path) -> None:
    """Define, start and autostart a dir pool over ``directory`` on the host at ``uri``."""
    conn = libvirt.open(uri)
    try:
        pool = conn.storagePoolDefineXML(
            f"<pool type='dir'><name>{name}</name><target><path>{directory}</path></target></pool>"
        )
        pool.create(0)
        pool.setAutostart(1)
    finally:
        conn.close()


def remove_dir_pool(uri: str, name: str, guests_prefix: str) -> None:
    """Remove the guests named ``guests_prefix…``, then the pool's volumes and the pool."""
    conn = libvirt.open(uri)
    try:
        for dom in conn.listAllDomains(0):
            if dom.name().startswith(guests_prefix):
                if dom.isActive():
                    dom.destroy()
                dom.undefine()
        pool = conn.storagePoolLookupByName(name)
        for volume in pool.listAllVolumes(0):
            volume.delete(0)
        pool.destroy()
        pool.undefine()
    finally:
        conn.close()
