"""Real TCG guests on a hand-started libvirtd, for the benchmarks (root only)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from types import TracebackType

import libvirt

from virtui.backends.libvirt.bootsector import IDLE_CODE, write_image
from virtui.backends.libvirt.demo import guest_xml
from virtui.backends.libvirt.eventloop import ensure_event_loop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.integration.daemons import Daemon

PREFIX = "vt-bench-"


class RealGuests:
    """``count`` idle guests (a halted boot sector, 16 MiB, each its own one-sector
    image) on a private libvirtd."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.daemon = Daemon(private_config=True)
        self._images = tempfile.TemporaryDirectory(prefix="vt-bench-img-")
        self._conn: libvirt.virConnect | None = None

    @property
    def uri(self) -> str:
        return self.daemon.qemu_uri

    def __enter__(self) -> RealGuests:
        ensure_event_loop()
        self.daemon.start()
        try:
            images = Path(self._images.name)
            images.chmod(0o755)
            conn = self._conn = libvirt.open(self.uri)
            for number in range(self.count):
                name = f"{PREFIX}{number:02d}"
                image = write_image(images / f"{name}.img", IDLE_CODE)
                xml = guest_xml(name, image, 1, 16)
                conn.defineXMLFlags(xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE).create()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._conn is not None:
            for dom in self._conn.listAllDomains(0):
                if dom.isActive():
                    dom.destroy()
            self._conn.close()
        self.daemon.remove()
        self._images.cleanup()
