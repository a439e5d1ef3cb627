"""Real libvirt daemons started by the tests, several at once on one machine.

Each libvirtd runs in a private mount namespace with tmpfs over libvirt's state
directories (two privileged daemons otherwise fight over /run/libvirt's driver pid
files) and listens on a socket in its own directory; clients reach it as
``test+unix:///default?socket=DIR/libvirt-sock`` (libvirt's test driver, served by a
real daemon over its real RPC protocol).
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from virtui.backends.libvirt.backend import LibvirtBackend
from virtui.ports.domain_config import DomainConfigPort
from virtui.ports.networks import NetworkConfigPort

# A daemon is SIGKILLed when the test process that started it dies (a crashed xdist
# worker left its daemons running); unshare and sh exec, so the signal reaches libvirtd.
DIE_WITH_TEST = ["setpriv", "--pdeathsig", "KILL"]

CONFIG = """\
unix_sock_dir = "{dir}"
unix_sock_rw_perms = "{perms}"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:{dir}/libvirtd.log"
"""

PRIVATE_STATE = (
    "for d in /run/libvirt /var/lib/libvirt /var/cache/libvirt; do "
    "mkdir -p $d && mount -t tmpfs tmpfs $d || exit 97; done; "
)
# Pool and domain definitions are kept under /etc/libvirt: a daemon that may define them
# gets a private one, with a qemu.conf that spares the ~40 s security-driver probe and
# has QEMU's output written to files by libvirtd itself (no virtlogd needed).
QEMU_CONF = 'user = "root"\ngroup = "root"\nsecurity_driver = "none"\nstdio_handler = "file"\n'
# Daemons without a network namespace of their own share the machine's ports. Each
# picks a guest's VNC port from the same default range, checking that it is free before
# QEMU binds it, so two guests started at once by two daemons could take the same port:
# one QEMU then failed with "Address already in use" (seen in the suite's parallel run).
# Each daemon gets a range of its own: a block per test worker, a slice per daemon.
_DISPLAY_PORTS_PER_WORKER = 2000
_DISPLAY_PORTS_PER_DAEMON = 100
_display_slices = itertools.count()


def _display_ports() -> tuple[int, int]:
    """A VNC port range that no other daemon of this suite's run is given."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    block = int(worker) if worker.isdigit() else 0
    per_block = _DISPLAY_PORTS_PER_WORKER // _DISPLAY_PORTS_PER_DAEMON
    first = (
        5900
        + (block % 25) * _DISPLAY_PORTS_PER_WORKER
        + (next(_display_slices) % per_block) * _DISPLAY_PORTS_PER_DAEMON
    )
    return first, first + _DISPLAY_PORTS_PER_DAEMON - 1


def qemu_conf() -> str:
    """qemu.conf for a daemon that runs guests: as root, no security driver, QEMU's
    output in files, and display ports of its own."""
    low, high = _display_ports()
    return f"{QEMU_CONF}remote_display_port_min = {low}\nremote_display_port_max = {high}\n"


KILLED_WAIT_S = 120.0


class Daemon:
    """One hand-started libvirtd; ``kill`` is SIGKILL, ``start`` brings it back."""

    def __init__(
        self,
        *,
        private_config: bool = False,
        keep_config: bool = False,
        keep_state: bool = False,
        everyone: bool = False,
        network: bool = False,
        rw_group: str = "",
    ) -> None:
        """``keep_config``: the private /etc/libvirt lives in the daemon's directory, so
        pools and domains defined before a kill are there again after ``start``.
        ``keep_state``: its /run/libvirt and /var/lib/libvirt too, as a host keeps them
        when systemd restarts a crashed libvirtd: it finds its running guests again.
        ``everyone``: other accounts of this machine may connect too (a team's tests).
        ``network``: the daemon gets its own network namespace, where its virtual
        networks (bridges, dnsmasq, iptables rules) live and die with it.
        ``rw_group``: only that group may change the host (the read-write socket is
        0770, the group's); everyone else has the read-only socket, libvirt-sock-ro."""
        self.network = network
        self.private_config = private_config or keep_config or keep_state or network
        self.keep_config = keep_config or keep_state
        self.keep_state = keep_state
        self.dir = Path(tempfile.mkdtemp(prefix="vt-", dir="/tmp"))  # short: socket paths
        if everyone or rw_group:
            self.dir.chmod(0o755)
        perms = "0770" if rw_group else "0777" if everyone else "0700"
        config = CONFIG.format(dir=self.dir, perms=perms)
        if rw_group:
            config += f'unix_sock_group = "{rw_group}"\nunix_sock_ro_perms = "0777"\n'
        (self.dir / "libvirtd.conf").write_text(config)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"test+unix:///default?socket={self.dir}/libvirt-sock"

    @property
    def qemu_uri(self) -> str:
        """The daemon's QEMU driver (and with it the storage driver)."""
        return f"qemu+unix:///system?socket={self.dir}/libvirt-sock"

    @property
    def readonly_uri(self) -> str:
        """The daemon's QEMU driver through its read-only socket."""
        return f"qemu+unix:///system?socket={self.dir}/libvirt-sock-ro"

    @property
    def socket(self) -> Path:
        return self.dir / "libvirt-sock"

    def start(self, timeout: float = 15.0) -> None:
        self.socket.unlink(missing_ok=True)
        config = ""
        if self.private_config:
            config = (
                "mount -t tmpfs tmpfs /etc/libvirt || exit 97; "
                f"printf '%s' '{qemu_conf()}' > /etc/libvirt/qemu.conf; "
            )
        if self.keep_config:
            (self.dir / "etc").mkdir(exist_ok=True)
            (self.dir / "etc" / "qemu.conf").write_text(qemu_conf())
            config = f"mount --bind {self.dir}/etc /etc/libvirt || exit 97; "
        state = PRIVATE_STATE
        if self.keep_state:
            state = "".join(
                f"mkdir -p {self.dir}/state{d} {d} && mount --bind {self.dir}/state{d} {d} "
                "|| exit 97; "
                for d in ("/run/libvirt", "/var/lib/libvirt", "/var/cache/libvirt")
            )
        command = (
            state
            + config
            + f"exec libvirtd --config {self.dir}/libvirtd.conf --pid-file {self.dir}/pid"
        )
        namespaces = ["--mount", "--propagation", "private"] + (["--net"] if self.network else [])
        if self.network:  # dnsmasq answers on the bridge only; lo is for libvirt itself
            command = "ip link set lo up; " + command
        self.process = subprocess.Popen(
            [*DIE_WITH_TEST, "unshare", *namespaces, "sh", "-c", command],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            # virtui sets LIBVIRT_LOG_OUTPUTS for its in-process libvirt; the daemon
            # would take it over its own config.
            env={k: v for k, v in os.environ.items() if not k.startswith("LIBVIRT_LOG")},
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        # The socket's file appears at bind(), before libvirtd listens: a client in
        # between is refused (seen on a loaded machine). Ready means it accepts.
        while not accepts(self.socket):
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"libvirtd did not start: {error.strip()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"libvirtd did not start within {timeout} s")
            time.sleep(0.05)

    def run_inside(self, *command: str) -> str:
        """Run a command in the daemon's namespaces (its private /var/lib/libvirt, its
        network); its standard output."""
        assert self.process is not None
        pid = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout.split() or [str(self.process.pid)]
        namespaces = ["--mount"] + (["--net"] if self.network else [])
        done = subprocess.run(
            ["nsenter", "--target", pid[0], *namespaces, *command],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def freeze(self) -> None:
        """SIGSTOP: the daemon stops answering, its sockets stay open."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def state(self) -> str:
        """Whether the daemon still runs, and the end of its log (for a failure message)."""
        assert self.process is not None
        status = self.process.poll()
        log = self.dir / "libvirtd.log"
        tail = log.read_text(errors="replace").splitlines()[-30:] if log.exists() else []
        running = "running" if status is None else f"ended with status {status}"
        return f"libvirtd {running}; its log ends:\n" + "\n".join(tail)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            # SIGKILLed, it ends once the kernel lets go of it: on a loaded machine a
            # daemon taking its namespaces down took longer than 10 s (a teardown error).
            self.process.wait(KILLED_WAIT_S)

    def remove(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def accepts(path: Path) -> bool:
    """True once something listens on the unix socket at ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
        return True


def daemons_available() -> str:
    """Why real daemons cannot run here, or "" when they can."""
    if shutil.which("libvirtd") is None:
        return "libvirtd is not installed (Debian: libvirt-daemon)"
    if shutil.which("unshare") is None:
        return "unshare is not installed (util-linux)"
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "true"], capture_output=True
    )
    if probe.returncode != 0:
        return f"cannot create a mount namespace here: {probe.stderr.decode().strip()}"
    return ""


class OneHost:
    """The review desk's view of one backend (what HostPorts is in the app)."""

    def __init__(self, backend: LibvirtBackend) -> None:
        self.backend = backend

    def domain_config(self, host: str) -> DomainConfigPort:
        return self.backend.domain_config_port()

    def network_config(self, host: str) -> NetworkConfigPort:
        return self.backend.network_config_port()
