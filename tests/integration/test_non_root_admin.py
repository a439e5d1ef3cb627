"""virtui as a sysadmin on a jump host usually runs it: not as root.

- A member of the group that owns libvirtd's read-write socket (Debian's ``libvirt``)
  opens ``qemu:///system`` and starts a guest from the console.
- An account outside that group is told why it cannot, and what to do, instead of a
  bare "Permission denied"; ``--readonly`` goes through the read-only socket.
- ``qemu:///session``: the account's own libvirt (libvirt starts its session daemon),
  where the account defines and starts its own guests.

The system daemon is a hand-started libvirtd (tests/integration/daemons.py). Its
sockets are shown at /run/libvirt, where ``qemu:///system`` looks, in a private mount
namespace of the console's own: the machine's /run/libvirt is never touched.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import libvirt
import pytest

from tests.integration.accounts import python_for, remove_user, run
from tests.integration.daemons import Daemon, daemons_available
from tests.integration.tmux import tmux, wait_for_text
from tests.requirements import require

# OS accounts and a group with fixed names: one worker.
pytestmark = pytest.mark.xdist_group("accounts")

GROUP = "vt-libvirt"  # what Debian's libvirt-daemon-system names "libvirt"
MEMBER, OUTSIDER = "vt-member", "vt-nogroup"  # the desk tests have a vt-outsider
DOMAIN_XML = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
</domain>"""


@dataclass
class Accounts:
    base: Path
    daemon: Daemon
    python: str
    env: dict[str, dict[str, str]]  # account -> the environment of its processes


@pytest.fixture
def accounts() -> Iterator[Accounts]:
    ready = os.geteuid() == 0 and shutil.which("runuser") and shutil.which("tmux")
    require("" if ready else "needs root, runuser and tmux", "run as root with runuser and tmux")
    require(daemons_available(), "start libvirtd")
    run("groupadd", "-f", GROUP)
    for user in (MEMBER, OUTSIDER):
        remove_user(user)
    run("useradd", "--no-create-home", "--shell", "/bin/sh", "--groups", GROUP, MEMBER)
    run("useradd", "--no-create-home", "--shell", "/bin/sh", OUTSIDER)
    base = Path(f"/tmp/vt-nonroot-{os.getpid()}")
    base.mkdir(mode=0o755)
    daemon = Daemon(private_config=True, rw_group=GROUP)
    try:
        daemon.start()
        conn = libvirt.open(daemon.qemu_uri)
        conn.defineXMLFlags(DOMAIN_XML.format(name="sysguest"), libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
        conn.close()
        python, extra = python_for(MEMBER)
        envs: dict[str, dict[str, str]] = {}
        for user in (MEMBER, OUTSIDER):
            home = base / user
            for sub in ("config", "state", "cache", "run"):
                (home / sub).mkdir(parents=True, mode=0o700)
            uid = pwd.getpwnam(user).pw_uid
            for path in [home, *home.rglob("*")]:
                os.chown(path, uid, -1)
            envs[user] = {
                "HOME": str(home),
                "XDG_CONFIG_HOME": str(home / "config"),
                "XDG_STATE_HOME": str(home / "state"),
                "XDG_CACHE_HOME": str(home / "cache"),
                "XDG_RUNTIME_DIR": str(home / "run"),  # the session daemon's sockets
                "PATH": os.environ["PATH"],
                "TERM": "xterm-256color",
                **extra,
            }
        yield Accounts(base, daemon, python, envs)
    finally:
        with_guest_stopped(daemon)
        daemon.remove()
        for user in (MEMBER, OUTSIDER):
            remove_user(user)  # with its session daemon and guests
        shutil.rmtree(base, ignore_errors=True)
        run("groupdel", GROUP, check=False)


def with_guest_stopped(daemon: Daemon) -> None:
    """No QEMU outlives the test: a guest's process is not the daemon's child."""
    if daemon.process is None or daemon.process.poll() is not None:
        return
    conn = libvirt.open(daemon.qemu_uri)
    for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
        dom.destroy()
    conn.close()


def as_account(accounts: Accounts, user: str, *command: str, system: bool = False) -> list[str]:
    """``command`` run as ``user`` with its own environment only; with ``system``, where
    /run/libvirt holds the daemon's sockets, as on a host whose libvirtd is a service."""
    env = [f"{k}={v}" for k, v in accounts.env[user].items()]
    argv = ["runuser", "-u", user, "--", "env", "-i", *env, *command]
    if not system:
        return argv
    sockets = accounts.daemon.dir
    script = (
        "mkdir -p /run/libvirt && mount -t tmpfs tmpfs /run/libvirt && "
        f"ln -s {sockets}/libvirt-sock /run/libvirt/libvirt-sock && "
        f"ln -s {sockets}/libvirt-sock-ro /run/libvirt/libvirt-sock-ro && "
        'exec "$@"'
    )
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *argv]


def console(accounts: Accounts, server: str, user: str, uri: str, *, system: bool) -> None:
    """``user``'s virtui on ``uri`` in a tmux server of its own (130x35)."""
    command = as_account(accounts, user, accounts.python, "-m", "virtui", "-c", uri, system=system)
    tmux(server, "new-session", "-d", "-x", "130", "-y", "35", shlex.join(command))


def start_from_the_console(server: str, name: str) -> None:
    wait_for_text(server, "shut off", timeout=30)
    pane = wait_for_text(server, name)
    assert "read-only" not in pane
    tmux(server, "send-keys", "s")
    wait_for_text(server, f"{name}: started", timeout=30)
    wait_for_text(server, "1 running / 1", timeout=10)


def test_a_member_of_the_libvirt_group_runs_guests_on_qemu_system(
    accounts: Accounts,
) -> None:
    server = f"virtui-member-{os.getpid()}"
    try:
        console(accounts, server, MEMBER, "qemu:///system", system=True)
        start_from_the_console(server, "sysguest")
    finally:
        tmux(server, "kill-server")
    conn = libvirt.open(accounts.daemon.qemu_uri)
    assert conn.lookupByName("sysguest").isActive()  # libvirt says so, not just the screen
    conn.close()


def test_an_account_outside_the_group_is_told_what_to_do(accounts: Accounts) -> None:
    batch = (accounts.python, "-m", "virtui", "-c", "qemu:///system", "top", "--batch", "-n", "1")
    refused = run(*as_account(accounts, OUTSIDER, *batch, system=True), check=False)
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    assert "Permission denied" in refused.stderr
    assert f"usermod -aG {GROUP} {OUTSIDER}" in refused.stderr, refused.stderr
    assert "--readonly" in refused.stderr and "qemu:///session" in refused.stderr

    watched = run(*as_account(accounts, OUTSIDER, *batch, "--readonly", system=True), check=False)
    assert watched.returncode == 0, watched.stderr
    assert ",sysguest," in watched.stdout


def test_qemu_session_is_an_account_s_own_libvirt(accounts: Accounts) -> None:
    xml = accounts.base / MEMBER / "guest.xml"
    xml.write_text(DOMAIN_XML.format(name="myguest"))
    xml.chmod(0o644)
    defined = run(
        *as_account(accounts, MEMBER, "virsh", "-c", "qemu:///session", "define", str(xml)),
        check=False,
    )
    assert defined.returncode == 0, defined.stderr
    server = f"virtui-session-{os.getpid()}"
    try:
        console(accounts, server, MEMBER, "qemu:///session", system=False)
        start_from_the_console(server, "myguest")
    finally:
        tmux(server, "kill-server")
    listed = run(
        *as_account(accounts, MEMBER, "virsh", "-c", "qemu:///session", "list", "--name"),
        check=False,
    )
    assert "myguest" in listed.stdout.split(), listed


def test_the_demo_runs_as_an_account_of_its_own(accounts: Accounts) -> None:
    """``virtui --demo`` (what the README's first command launches) for a non-root
    user: the embedded driver runs its guests as that account."""
    repo = str(Path(__file__).resolve().parents[2])
    paths = [repo, *filter(None, accounts.env[MEMBER].get("PYTHONPATH", "").split(":"))]
    accounts.env[MEMBER]["PYTHONPATH"] = ":".join(paths)
    root = accounts.base / MEMBER / "cache" / "demo"
    demo = (accounts.python, "-m", "tests.integration.demo_user", str(root), "plain")
    done = run(*as_account(accounts, MEMBER, *demo), check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"virtui-demo-spin": 0' in done.stdout, done.stdout
