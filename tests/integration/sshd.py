"""A private sshd for tests: its own host key and authorized key under a directory,
started inside whatever namespaces ``prefix`` enters (nsenter), never the system's."""

from __future__ import annotations

import select
import subprocess
from collections.abc import Sequence
from pathlib import Path

SSHD = "/usr/sbin/sshd"


def keypair(path: Path) -> Path:
    """An ed25519 key without a passphrase at ``path`` (and ``path``.pub)."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path


class PrivateSshd:
    """One sshd listening on ``address``:``port`` that lets in the holder of
    ``client_key`` (any account: root here)."""

    def __init__(
        self, base: Path, address: str, client_key: Path, port: int = 22, prefix: Sequence[str] = ()
    ) -> None:
        self.dir = base
        self.address = address
        self.port = port
        self.prefix = list(prefix)
        self.process: subprocess.Popen[str] | None = None
        base.mkdir(mode=0o755, parents=True, exist_ok=True)
        self.host_key = keypair(base / "host_key")
        (base / "authorized_keys").write_text(Path(f"{client_key}.pub").read_text())
        (base / "sshd_config").write_text(
            f"ListenAddress {address}\nPort {port}\nHostKey {self.host_key}\n"
            f"AuthorizedKeysFile {base / 'authorized_keys'}\nPidFile {base / 'pid'}\n"
            "UsePAM no\nStrictModes no\nPasswordAuthentication no\nPermitRootLogin yes\n"
            "AllowTcpForwarding yes\n"
        )

    def known_hosts_line(self) -> str:
        """This server's entry for a known_hosts file."""
        key = Path(f"{self.host_key}.pub").read_text().split()
        where = self.address if self.port == 22 else f"[{self.address}]:{self.port}"
        return f"{where} {key[0]} {key[1]}\n"

    def start(self) -> None:
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation folder
        self.process = subprocess.Popen(
            [*self.prefix, SSHD, "-D", "-e", "-f", str(self.dir / "sshd_config")],
            stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        ready, _, _ = select.select([self.process.stderr], [], [], 15)
        line = self.process.stderr.readline() if ready else ""
        if "listening" not in line.lower():
            self.stop()
            raise RuntimeError(f"sshd on {self.address} did not start: {line.strip()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
