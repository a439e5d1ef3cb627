"""Changes that reach beyond the guest: flagged on the request, the diff and the merge.

A domain definition can make the host run a program as root (``<emulator>``, which
libvirt probes at define time, ``<qemu:commandline>``, an ethernet ``<script>``), hand
it host hardware or files, switch off confinement or expose a console to the network.
What may stay is an allow-list (review/hostreach.py); this module adds the emulator
check against the host's own and the disk formats. Only what the proposal adds or
changes is flagged: what the base already had was reviewed when it came in.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from virtui.review.hostreach import domain_reach
from virtui.review.xmlsafe import parse_domain

if TYPE_CHECKING:
    from lxml import etree
else:
    from virtui.lazyimport import lxml_etree as etree


class DangerRefused(ValueError):
    """A change that is never merged (an emulator the host does not offer)."""


def _key(element: etree._Element) -> bytes:
    return bytes(etree.tostring(element, method="c14n"))


def _new(base: etree._Element | None, proposed: etree._Element, path: str) -> list[etree._Element]:
    """Elements at ``path`` in the proposal that the base (None: a new domain) does not
    have as they are."""
    old = {_key(e) for e in base.iterfind(path)} if base is not None else set()
    return [e for e in proposed.iterfind(path) if _key(e) not in old]


def new_disk_formats(base_xml: str, proposed_xml: str) -> list[tuple[str, str]]:
    """(source file, declared driver type) of the disks the proposal adds or changes."""
    found = []
    base = parse_domain(base_xml) if base_xml.strip() else None
    for disk in _new(base, parse_domain(proposed_xml), "devices/disk"):
        source, driver = disk.find("source"), disk.find("driver")
        path = source.get("file", "") if source is not None else ""
        declared = driver.get("type", "raw") if driver is not None else "raw"
        if path and disk.get("device", "disk") in ("disk", "lun"):
            found.append((path, declared))
    return found


def new_writable_disks(base_xml: str, proposed_xml: str) -> list[str]:
    """Host paths of the disks the proposal adds or repoints that the guest may write
    (not read-only, not marked shareable)."""
    found = []
    base = parse_domain(base_xml) if base_xml.strip() else None
    for disk in _new(base, parse_domain(proposed_xml), "devices/disk"):
        source = disk.find("source")
        path = (source.get("file") or source.get("dev") or "") if source is not None else ""
        shared = disk.find("readonly") is not None or disk.find("shareable") is not None
        if path and not shared and disk.get("device", "disk") in ("disk", "lun"):
            found.append(path)
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
    base_xml: str,
    proposed_xml: str,
    pool_paths: Collection[str] | None = None,
    emulators: Collection[str] | None = None,
) -> list[str]:
    """What the proposal adds that reaches beyond the guest, one line each (the
    allow-list in review/hostreach.py)."""
    return domain_reach(base_xml, proposed_xml, pool_paths, emulators)
