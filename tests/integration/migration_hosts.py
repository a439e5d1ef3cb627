"""Two libvirt hosts on one machine, for migration: each libvirtd in its own mount,
network and UTS namespace, with its own hostname, host UUID, /etc/hosts and state,
listening on TCP at its own address on a bridge in the test's namespace.

Clients reach them as ``qemu+tcp://10.88.0.1N/system``; the daemons reach each other
(peer-to-peer, and QEMU's migration stream) by hostname through /etc/hosts.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt

from tests.integration.daemons import (
    DIE_WITH_TEST,
    PRIVATE_STATE,
    QEMU_CONF,
    daemons_available,
)
from tests.requirements import require
from virtui.backends.libvirt.bootsector import IDLE_CODE, boot_sector

BRIDGE = "vtmig0"
NETWORK = "10.88.0"
CONFIG = """\
listen_tcp = 1
listen_tls = 0
listen_addr = "{address}"
auth_tcp = "none"
unix_sock_dir = "{dir}"
unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
host_uuid = "{uuid}"
keepalive_interval = 2
keepalive_count = 3
log_outputs = "3:file:{dir}/libvirtd.log"
"""


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def ensure_bridge() -> None:
    """The bridge in the test's own namespace that both hosts hang off (idempotent)."""
    if subprocess.run(["ip", "link", "show", BRIDGE], capture_output=True).returncode:
        _ip("link", "add", BRIDGE, "type", "bridge")
        _ip("addr", "add", f"{NETWORK}.1/24", "dev", BRIDGE)
    _ip("link", "set", BRIDGE, "up")


KILLED_WAIT_S = 120.0


class MigrationHost:
    """One host of the pair: ``number`` 1 or 2 gives its name (vt-mig1), address
    (10.88.0.11) and host UUID."""

    def __init__(self, number: int, peers: dict[int, str]) -> None:
        self.number = number
        self.hostname = f"vt-mig{number}"
        self.address = f"{NETWORK}.1{number}"
        self.peers = peers  # every host's number -> hostname, for /etc/hosts
        self.dir = Path(tempfile.mkdtemp(prefix="vtm-", dir="/tmp"))
        self.process: subprocess.Popen[bytes] | None = None
        uuid = f"00000000-0000-4000-8000-00000000000{number}"
        (self.dir / "libvirtd.conf").write_text(
            CONFIG.format(address=self.address, dir=self.dir, uuid=uuid)
        )
        hosts = ["127.0.0.1 localhost"] + [
            f"{NETWORK}.1{n} {name}" for n, name in sorted(peers.items())
        ]
        (self.dir / "hosts").write_text("\n".join(hosts) + "\n")
        (self.dir / "etc").mkdir()
        (self.dir / "etc" / "qemu.conf").write_text(QEMU_CONF)

    @property
    def uri(self) -> str:
        return f"qemu+tcp://{self.address}/system"

    @property
    def veth(self) -> str:
        return f"vtm{self.number}"

    def start(self, timeout: float = 60.0) -> None:
        ensure_bridge()
        inner = f"vtm{self.number}i"
        command = (
            # Says so once in its own namespaces: the parent moves the link in only then
            # (moved before unshare(2) has run, it stayed outside, and the host waited
            # for it for ever: "did not start", its socket not there).
            "echo namespaced; exec >/dev/null; "
            + PRIVATE_STATE
            + f"mount --bind {self.dir}/etc /etc/libvirt || exit 97; "
            + f"mount --bind {self.dir}/hosts /etc/hosts || exit 97; "
            + f"hostname {self.hostname}; ip link set lo up; "
            # the outer end is moved in by the parent: wait for it
            + f"while ! ip link show {inner} >/dev/null 2>&1; do sleep 0.05; done; "
            + f"ip addr add {self.address}/24 dev {inner}; ip link set {inner} up; "
            + f"exec libvirtd --listen --config {self.dir}/libvirtd.conf "
            + f"--pid-file {self.dir}/pid"
        )
        self.process = subprocess.Popen(
            [
                *DIE_WITH_TEST,
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "--net",
                "--uts",
                "sh",
                "-c",
                command,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={k: v for k, v in os.environ.items() if not k.startswith("LIBVIRT_LOG")},
        )
        assert self.process.stdout is not None
        with self.process.stdout:
            said = self.process.stdout.readline()  # the child's own namespaces are there
        if said != b"namespaced\n":
            error = self.process.stderr.read().decode() if self.process.stderr else ""
            raise RuntimeError(f"libvirtd {self.hostname}: no namespaces: {error.strip()}")
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("link", "del", self.veth)  # a leftover of a killed run
        # A fixed MAC: a restarted host answers at the address its peers' ARP caches
        # still hold (a new random one leaves them unreachable for up to ~50 s).
        mac = f"52:54:00:88:00:1{self.number}"
        _ip("link", "add", self.veth, "type", "veth", "peer", "name", inner, "address", mac)
        _ip("link", "set", inner, "netns", str(self.process.pid))
        _ip("link", "set", self.veth, "master", BRIDGE)
        _ip("link", "set", self.veth, "up")
        deadline = time.monotonic() + timeout
        while not (self.dir / "libvirt-sock").exists() or not self._listening():
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"libvirtd {self.hostname} did not start: {error.strip()}")
            if time.monotonic() > deadline:
                socket_there = (self.dir / "libvirt-sock").exists()
                raise RuntimeError(
                    f"libvirtd {self.hostname} did not start in {timeout} s (its socket"
                    f" {'is there' if socket_there else 'is not there'}; nothing answers"
                    f" at {self.address}:16509)"
                )
            time.sleep(0.05)

    def _listening(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection((self.address, 16509), 0.2):
            return True
        return False

    def enter(self) -> list[str]:
        """The nsenter words that run a command in this host's namespaces."""
        assert self.process is not None  # libvirtd itself: unshare and sh exec it
        return ["nsenter", "--target", str(self.process.pid), "--mount", "--net", "--uts"]

    def run_inside(self, *command: str) -> str:
        """A command in this host's namespaces; its output."""
        assert self.process is not None
        children = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout.split()
        target = children[0] if children else str(self.process.pid)
        return subprocess.run(
            ["nsenter", "--target", target, "--mount", "--net", "--uts", *command],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def _guests(self) -> list[int]:
        """The QEMU processes of this host: those in its network namespace (libvirt gives
        each guest a mount namespace of its own, but not a network one)."""
        assert self.process is not None
        try:
            ours = os.readlink(f"/proc/{self.process.pid}/ns/net")
        except OSError:
            return []
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                if (
                    b"qemu-system" in (entry / "cmdline").read_bytes()[:200]
                    and os.readlink(entry / "ns" / "net") == ours
                ):
                    found.append(int(entry.name))
        return found

    def kill(self) -> None:
        """SIGKILL the daemon and its guests: the host is lost."""
        if self.process is not None and self.process.poll() is None:
            for pid in self._guests():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 9)
            self.process.kill()
            # SIGKILLed, it ends once the kernel lets go of it: on a loaded machine a
            # daemon taking its namespaces down took longer than 10 s (a teardown error).
            self.process.wait(KILLED_WAIT_S)

    def silence(self) -> None:
        """Cut the host's link: its daemon and guests stay up, but nothing they send
        arrives and nothing sent to them is answered or refused (as a frozen host)."""
        _ip("link", "set", self.veth, "down")

    def speak(self) -> None:
        """Mend the link cut by silence()."""
        _ip("link", "set", self.veth, "up")

    def remove(self) -> None:
        self.kill()
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("link", "del", self.veth)
        shutil.rmtree(self.dir, ignore_errors=True)


IMAGES = "/var/lib/libvirt/images"
POOL = f"<pool type='dir'><name>images</name><target><path>{IMAGES}</path></target></pool>"


def with_pools(*hosts: MigrationHost) -> None:
    """A dir pool "images" at IMAGES on each host (each its own: not shared)."""
    for host in hosts:
        conn = libvirt.open(host.uri)
        try:
            pool = conn.storagePoolDefineXML(POOL)
            pool.build(0)
            pool.create(0)
        finally:
            conn.close()


def make_guest(
    uri: str,
    name: str,
    disk_mib: int = 1,
    running: bool = True,
    memory_mib: int = 32,
    vnc_port: int = 0,
) -> str:
    """A guest whose disk (a boot sector, then ``disk_mib`` MiB of noise that a copy
    cannot skip) is a volume of the host's pool, with a VNC display on the host's
    loopback at ``vnc_port`` when one is given; its UUID."""
    conn = libvirt.open(uri)
    try:
        volume = conn.storagePoolLookupByName("images").createXML(
            f"<volume><name>{name}.img</name><capacity unit='MiB'>{disk_mib}</capacity>"
            "<target><format type='raw'/></target></volume>",
            0,
        )
        stream = conn.newStream(0)
        volume.upload(stream, 0, 0, 0)
        data = boot_sector(IDLE_CODE) + os.urandom(disk_mib * 1024 * 1024 - 512)
        for start in range(0, len(data), 1 << 20):
            stream.send(data[start : start + (1 << 20)])
        stream.finish()
        graphics = (
            f"<graphics type='vnc' port='{vnc_port}' autoport='no' listen='127.0.0.1'/>"
            if vnc_port
            else ""
        )
        dom = conn.defineXMLFlags(
            f"""<domain type='qemu'><name>{name}</name><memory unit='MiB'>{memory_mib}</memory>
<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
<devices><disk type='file' device='disk'><driver name='qemu' type='raw'/>
<source file='{IMAGES}/{name}.img'/><target dev='hda' bus='ide'/></disk>
{graphics}<memballoon model='none'/></devices></domain>""",
            libvirt.VIR_DOMAIN_DEFINE_VALIDATE,
        )
        if running:
            dom.create()
        return str(dom.UUIDString())
    finally:
        conn.close()


def pair() -> tuple[MigrationHost, MigrationHost]:
    """Two hosts that know each other by name."""
    peers = {1: "vt-mig1", 2: "vt-mig2"}
    return MigrationHost(1, peers), MigrationHost(2, peers)


@contextlib.contextmanager
def running_pair() -> Iterator[tuple[MigrationHost, MigrationHost]]:
    """Both hosts of a pair, started with their pools; removed (killed) afterwards."""
    require(daemons_available(), "start libvirtd")
    first, second = pair()
    try:
        first.start()
        second.start()
        with_pools(first, second)
        yield first, second
    finally:
        first.remove()
        second.remove()


def state_on(uri: str, uuid: str) -> str:
    """The domain's state on a host, read on a connection of its own ("absent")."""
    conn = libvirt.open(uri)
    try:
        dom = conn.lookupByUUIDString(uuid)
        return {1: "running", 3: "paused", 5: "shut off"}.get(dom.state()[0], "other")
    except libvirt.libvirtError:
        return "absent"
    finally:
        conn.close()
