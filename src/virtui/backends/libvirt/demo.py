"""The embedded demo: real QEMU guests under libvirt's in-process QEMU driver.

``virtui --demo`` needs no daemon: it opens ``qemu:///embed?root=DIR`` (DIR kept in the
XDG cache so QEMU's capability probe happens only on the first start) and boots guests
whose disks are one boot sector: one that spins a CPU (and echoes its serial console),
one idle, one paused, one defined but shut off. ``stop`` destroys and undefines them again,
with whatever a user made in the demo's root (snapshots, saves, clones, added disks).
"""

from __future__ import annotations

import contextlib
import grp
import logging
import os
import pwd
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import libvirt

from virtui.backends.libvirt.bootsector import (
    ECHO_SPIN_CODE,
    IDLE_CODE,
    SPIN_CODE,
    write_image,
)
from virtui.backends.libvirt.connections import open_connection, release_connection
from virtui.backends.libvirt.eventloop import ensure_event_loop
from virtui.backends.libvirt.handle import describe
from virtui.xmltext import escape

log = logging.getLogger(__name__)

DEMO_PREFIX = "virtui-demo-"

QEMU_CONF = """\
# Written by virtui for its embedded demo driver.
user = "{user}"
group = "{group}"
security_driver = "none"
stdio_handler = "file"
remember_owner = 0
"""


def qemu_conf() -> str:
    """The demo driver's qemu.conf: guests run as the account that runs virtui (root's
    "root" would have a non-root driver chown its state to root, and fail)."""
    try:
        user = pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(os.getegid()).gr_name
    except KeyError:  # an account without a name (a container's): its number
        user, group = f"+{os.geteuid()}", f"+{os.getegid()}"
    return QEMU_CONF.format(user=user, group=group)


Progress = Callable[[str, int, int], None]
"""progress(message, step, steps): what the provisioner is doing now."""


@dataclass(frozen=True, slots=True)
class DemoGuest:
    """One demo guest and the state it is left in."""

    name: str
    code: bytes
    vcpus: int
    memory_mib: int
    final_state: str  # "running", "paused" or "shutoff"


DEMO_GUESTS = (
    DemoGuest(DEMO_PREFIX + "spin", ECHO_SPIN_CODE, 1, 32, "running"),
    DemoGuest(DEMO_PREFIX + "idle", IDLE_CODE, 2, 48, "running"),
    DemoGuest(DEMO_PREFIX + "paused", SPIN_CODE, 1, 32, "paused"),
    DemoGuest(DEMO_PREFIX + "off", IDLE_CODE, 1, 64, "shutoff"),
)


class DemoUnavailable(Exception):
    """The embedded driver cannot run here; the message says why and what to install."""


def embed_uri(root: Path) -> str:
    """The URI of the embedded QEMU driver rooted at ``root``."""
    return f"qemu:///embed?root={root}"


def _as_qcow2(raw: Path) -> tuple[Path, str]:
    """A fresh qcow2 copy of the boot sector, so snapshots (n, z) work in the demo (an
    internal snapshot needs qcow2); the raw image when qemu-img is missing."""
    qcow2 = raw.with_suffix(".qcow2")
    tool = shutil.which("qemu-img")
    if tool is None:
        return raw, "raw"
    qcow2.unlink(missing_ok=True)  # earlier runs' snapshots go with the guests
    done = subprocess.run(
        [tool, "convert", "-q", "-f", "raw", "-O", "qcow2", str(raw), str(qcow2)],
        capture_output=True,
        check=False,
    )
    return (qcow2, "qcow2") if done.returncode == 0 else (raw, "raw")


def guest_xml(
    name: str, image: Path, vcpus: int, memory_mib: int, fmt: str = "raw", devices: str = ""
) -> str:
    """Domain XML for a diskless-OS TCG guest that boots ``image``; ``devices``: more
    device elements (trusted XML, written by the caller)."""
    return f"""<domain type='qemu'>
  <name>{escape(name)}</name>
  <memory unit='MiB'>{memory_mib}</memory>
  <vcpu>{vcpus}</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='{escape(fmt)}'/>
      <source file='{escape(str(image))}'/>
      <target dev='hda' bus='ide'/>
    </disk>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    {devices}<memballoon model='none'/>
  </devices>
</domain>"""


def check_embedded_driver() -> None:
    """Raise DemoUnavailable unless QEMU and the accounts libvirt expects exist."""
    if shutil.which("qemu-system-x86_64") is None:
        raise DemoUnavailable("QEMU is not installed (Debian: apt-get install qemu-system-x86)")
    try:
        pwd.getpwnam("libvirt-qemu")
        grp.getgrnam("libvirt-qemu")
    except KeyError as error:
        raise DemoUnavailable(
            "the libvirt-qemu user or group is missing (the README set-up command creates it)"
        ) from error


def prepare_root(root: Path) -> None:
    """Create the driver root, closed to other users (its domain XML names the programs
    the driver runs), with a qemu.conf that runs guests as this account without labels."""
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    root.chmod(0o700)
    (root / "etc").mkdir(exist_ok=True)
    conf = root / "etc" / "qemu.conf"
    wanted = qemu_conf()
    if not conf.exists() or conf.read_text() != wanted:
        conf.write_text(wanted)


# Whatever a user made in the demo goes with its guest: snapshots, a managed save image,
# checkpoints and UEFI variables each make a plain undefine refuse.
UNDEFINE_ALL = (
    libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
    | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
    | libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
    | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
)


def _remove_guest(dom: libvirt.virDomain) -> str:
    """Destroy and undefine one guest; "" when it is gone, else why it is not."""
    # Each step on its own: a guest whose QEMU died with an earlier process refuses
    # destroy ("not running") but must still be undefined.
    with contextlib.suppress(libvirt.libvirtError):
        if dom.isActive():
            dom.destroy()
    try:
        dom.undefineFlags(UNDEFINE_ALL)
    except libvirt.libvirtError as error:
        if error.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return ""
        return f"{dom.name()}: {describe(error)}"
    return ""


class EmbeddedDemo:
    """Boots and tears down the demo guests in an embedded QEMU driver."""

    def __init__(self, root: Path, guests: tuple[DemoGuest, ...] = DEMO_GUESTS) -> None:
        self.root = root
        self.guests = guests
        self.uri = embed_uri(root)
        self._conn: libvirt.virConnect | None = None

    @property
    def first_start(self) -> bool:
        """True when QEMU's capabilities were never probed in this root (slow start)."""
        return not any((self.root / "cache" / "qemu" / "capabilities").glob("*.xml"))

    def start(self, progress: Progress) -> str:
        """Boot the guests; returns the URI to connect to. Raises DemoUnavailable."""
        check_embedded_driver()
        steps = 2 + len(self.guests)
        progress("Preparing the embedded QEMU driver", 0, steps)
        prepare_root(self.root)
        ensure_event_loop()
        try:
            self._conn = open_connection(self.uri)
        except libvirt.libvirtError as error:
            raise DemoUnavailable(f"cannot open {self.uri}: {describe(error)}") from error
        progress("Removing guests left over from an earlier run", 1, steps)
        left = self._remove_guests()
        if left:
            self.stop()
            raise DemoUnavailable(f"cannot remove an earlier run's guests: {'; '.join(left)}")
        # Disks a user added or cloned in an earlier run; the demo's own are written anew.
        shutil.rmtree(self.root / "images", ignore_errors=True)
        for step, guest in enumerate(self.guests, start=2):
            if step == 2 and self.first_start:
                progress(
                    f"Probing QEMU's capabilities (first start only, then cached in {self.root})",
                    step,
                    steps,
                )
            else:
                progress(f"Booting {guest.name} ({guest.final_state})", step, steps)
            try:
                self._boot(guest)
            except libvirt.libvirtError as error:
                self.stop()
                raise DemoUnavailable(f"{guest.name}: {describe(error)}") from error
        progress("Demo guests are up", steps, steps)
        return self.uri

    def _boot(self, guest: DemoGuest) -> None:
        assert self._conn is not None
        # One image per guest: QEMU write-locks a running guest's disk.
        raw = write_image(self.root / "images" / f"{guest.name}.img", guest.code)
        image, fmt = _as_qcow2(raw)
        xml = guest_xml(guest.name, image, guest.vcpus, guest.memory_mib, fmt)
        dom = self._conn.defineXMLFlags(xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
        if guest.final_state in ("running", "paused"):
            dom.create()
        if guest.final_state == "paused":
            dom.suspend()

    def _remove_guests(self) -> list[str]:
        """Destroy and undefine every guest in the demo's root, the demo's own and any a
        user made there (clones, imports); why each one that is left could not go."""
        assert self._conn is not None
        guests = self._conn.listAllDomains(0)
        # libvirt waits 1-2 s for each QEMU to exit: destroy them side by side.
        with ThreadPoolExecutor(max_workers=max(1, len(guests))) as pool:
            return [why for why in pool.map(_remove_guest, guests) if why]

    def stop(self) -> None:
        """Destroy and undefine every guest in the demo's root, then close the connection.
        What could not be removed is logged; the next start tries again."""
        if self._conn is None:
            return
        try:
            for why in self._remove_guests():
                log.warning("demo guest left behind: %s", why)
        finally:
            with contextlib.suppress(libvirt.libvirtError):
                release_connection(self.uri, self._conn)
            self._conn = None
