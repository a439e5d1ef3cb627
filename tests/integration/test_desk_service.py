"""The team's desk as a service: three OS accounts (two members, one outsider), the
service's own account, and a real libvirtd where only the service may change the host
(members have its read-only socket).

Each way round the old shared-files desk is tried and refused with one line, nothing
changed: a forged approval in the store, root in a member's own user namespace, a
member's own rules, a planted repository config, an outsider. Then the ordinary flow:
propose → the other member approves (their TUI shows the request within a second) →
merge, made by the service → a history commit by the service naming author, approver
and merger. Last, a member in a second network namespace reaches the desk over SSH and
is known there by the same account.
"""

from __future__ import annotations

import json
import os
import pwd
import select
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import libvirt
import pytest

from tests.integration.accounts import python_for, remove_user, run, start_tui_as
from tests.integration.daemons import Daemon, daemons_available
from tests.integration.tmux import tmux, wait_for_text
from tests.requirements import require

# OS accounts, a group and a network namespace with fixed names: one worker.
pytestmark = pytest.mark.xdist_group("accounts")

GROUP = "vt-deskteam"
SERVICE = "vt-deskd"
ALICE, BOB, EVE = "vt-mem-a", "vt-mem-b", "vt-outsider"
FAR = "vtdesk-far"  # the far member's network namespace
NEAR_ADDRESS, FAR_ADDRESS = "10.231.7.1", "10.231.7.2"
SSH_PORT = 2222
SSHD = "/usr/sbin/sshd"
DOMAIN = "deskvm"
DOMAIN_XML = f"""<domain type='qemu'>
  <name>{DOMAIN}</name>
  <memory unit='MiB'>128</memory>
  <currentMemory unit='MiB'>128</currentMemory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
</domain>"""


@dataclass
class DeskTeam:
    base: Path
    daemon: Daemon
    socket: Path
    store: Path
    history: Path
    python: str
    env: dict[str, dict[str, str]]  # member -> environment of their virtui
    service: subprocess.Popen[str]


def _environment(home: Path, extra: dict[str, str]) -> dict[str, str]:
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "PATH": os.environ["PATH"],
        "TERM": "xterm-256color",
        "USER": "root",  # no environment variable changes who you are
        **extra,
    }


def _member_config(team: DeskTeam, user: str, review: str) -> None:
    path = Path(team.env[user]["XDG_CONFIG_HOME"]) / "virtui" / "config.toml"
    path.write_text(
        f'[[hosts]]\nuri = "{team.daemon.readonly_uri}"\nname = "h"\n\n[review]\n{review}'
    )


def _as(team: DeskTeam, user: str, *command: str) -> subprocess.CompletedProcess[str]:
    """``COMMAND`` as ``user`` (runuser: the OS account is who acts), in their own
    environment only."""
    env = [f"{k}={v}" for k, v in team.env[user].items()]
    return run("runuser", "-u", user, "--", "env", "-i", *env, *command, check=False)


def _virtui(team: DeskTeam, user: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``virtui ARGS`` as ``user``."""
    return _as(team, user, team.python, "-m", "virtui", *args)


def _chown(path: Path, user: str) -> None:
    uid = pwd.getpwnam(user).pw_uid
    for item in [path, *path.rglob("*")]:
        os.chown(item, uid, -1)


def _wait_listening(service: subprocess.Popen[str], errors: Path) -> None:
    assert service.stdout is not None
    ready, _, _ = select.select([service.stdout], [], [], 30)
    line = service.stdout.readline() if ready else ""
    assert "listening on" in line, f"the desk did not start: {line} {errors.read_text()}"


@pytest.fixture
def desk_team() -> Iterator[DeskTeam]:
    ready = (
        os.geteuid() == 0
        and all(shutil.which(tool) for tool in ("runuser", "tmux", "ip", "ssh", "unshare"))
        and Path(SSHD).is_file()
    )
    require("" if ready else "needs root, runuser, tmux, ip, ssh, sshd", "run as root with them")
    require(daemons_available(), "start libvirtd")
    run("groupadd", "-f", GROUP)
    base = Path(f"/tmp/vt-desk-{os.getpid()}")
    for user in (SERVICE, ALICE, BOB, EVE):
        remove_user(user)
        groups = ["--groups", GROUP] if user in (ALICE, BOB) else []
        # A password of "*": no password login, yet not a locked account (sshd refuses
        # those whatever key is offered).
        run(
            "useradd",
            "--no-create-home",
            "--home-dir",
            str(base / "home" / user),
            "--shell",
            "/bin/sh",
            "--password",
            "*",
            *groups,
            user,
        )
    base.mkdir(mode=0o755)
    daemon = Daemon(private_config=True, rw_group=SERVICE)
    service: subprocess.Popen[str] | None = None
    try:
        daemon.start()
        conn = libvirt.open(daemon.qemu_uri)
        conn.defineXMLFlags(DOMAIN_XML, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
        conn.close()
        python, extra = python_for(ALICE)
        # The service's files: its rules root's (0644 in a root folder), its state its own.
        etc, state, socket_dir = base / "etc", base / "state", base / "run"
        etc.mkdir(mode=0o755)
        state.mkdir(mode=0o700)
        socket_dir.mkdir(mode=0o755)
        _chown(state, SERVICE)
        _chown(socket_dir, SERVICE)
        store, history, socket = (
            state / "reviews.db",
            state / "config.git",
            socket_dir / "desk.sock",
        )
        (etc / "desk.toml").write_text(
            f'[desk]\nsocket = "{socket}"\ngroup = "{GROUP}"\n\n'
            f'[review]\nstore = "{store}"\nhistory = "{history}"\n'
            "required_approvals = 1\nforbid_self_approval = true\n\n"
            f'[[hosts]]\nname = "h"\nuri = "{daemon.qemu_uri}"\n'
        )
        (etc / "desk.toml").chmod(0o644)
        errors = base / "desk.log"
        service_env = _environment(state, extra)
        service = subprocess.Popen(
            [
                "runuser",
                "-u",
                SERVICE,
                "--",
                "env",
                "-i",
                *[f"{k}={v}" for k, v in service_env.items()],
                python,
                "-m",
                "virtui",
                "desk",
                "serve",
                "--config",
                str(etc / "desk.toml"),
            ],
            stdout=subprocess.PIPE,
            stderr=errors.open("w"),
            text=True,
        )
        _wait_listening(service, errors)
        envs = {}
        for user in (ALICE, BOB, EVE):
            home = base / "home" / user
            for sub in ("config/virtui", "state", "cache"):
                (home / sub).mkdir(parents=True)
            envs[user] = _environment(home, extra)
        team = DeskTeam(base, daemon, socket, store, history, python, envs, service)
        for user in (ALICE, BOB, EVE):
            _member_config(team, user, f'desk = "{socket}"\n')
            _chown(base / "home" / user, user)
        yield team
    finally:
        if service is not None:
            service.terminate()
            service.wait(10)
        daemon.remove()
        for user in (SERVICE, ALICE, BOB, EVE):
            remove_user(user)
        run("groupdel", GROUP, check=False)
        shutil.rmtree(base, ignore_errors=True)


def _proposal(team: DeskTeam) -> Path:
    conn = libvirt.open(team.daemon.qemu_uri)
    live = conn.lookupByName(DOMAIN).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    conn.close()
    proposal = team.base / "proposal.xml"
    proposal.write_text(
        live.replace(
            "<memory unit='KiB'>131072</memory>", "<memory unit='KiB'>98304</memory>"
        ).replace("<currentMemory unit='KiB'>131072<", "<currentMemory unit='KiB'>98304<")
    )
    proposal.chmod(0o644)
    return proposal


def _memory(team: DeskTeam) -> int:
    conn = libvirt.open(team.daemon.qemu_uri)
    try:
        return int(conn.lookupByName(DOMAIN).info()[1])
    finally:
        conn.close()


def _store_rows(team: DeskTeam, sql: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(f"file:{team.store}?mode=ro", uri=True)
    try:
        return list(db.execute(sql))
    finally:
        db.close()


def _git_log(team: DeskTeam) -> str:
    return run(
        "git",
        "-c",
        "safe.directory=*",
        "--git-dir",
        str(team.history),
        "log",
        "--format=%an <%ae>%n%B%n----",
        "refs/heads/main",
        check=False,
    ).stdout


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_the_desk_service_is_the_only_way_to_change_a_host(desk_team: DeskTeam) -> None:
    team = desk_team
    host = os.uname().nodename
    proposal = _proposal(team)

    # Members cannot change the host themselves: read-only libvirt.
    direct = _as(
        team,
        ALICE,
        "virsh",
        "-c",
        team.daemon.readonly_uri,
        "define",
        str(proposal),
    )
    assert direct.returncode != 0 and "read only" in direct.stderr.lower(), direct.stderr
    rw = _as(team, ALICE, "virsh", "-c", team.daemon.qemu_uri, "list")
    assert rw.returncode != 0, rw.stdout

    # The outsider is refused by the service, whatever their config says.
    refused = _one_line(_virtui(team, EVE, "review", "list"))
    assert f"{EVE} is not a member of {GROUP}" in refused

    # bob's TUI, on the desk service: it opens on "for me".
    server = f"virtui-desk-{os.getpid()}"
    try:
        start_tui_as(server, BOB, team.env[BOB], team.python, DOMAIN)
        wait_for_text(server, f"you are {BOB}@{host}", timeout=10)

        made = _virtui(
            team,
            ALICE,
            "review",
            "propose",
            "-c",
            "h",
            DOMAIN,
            str(proposal),
            "--title",
            "deskvm: less memory",
        )
        assert made.returncode == 0, made.stderr
        number = made.stdout.strip()
        opened = _virtui(team, ALICE, "review", "open", number)
        assert opened.returncode == 0, opened.stderr
        opened_at = time.monotonic()
        wait_for_text(server, "deskvm: less memory", timeout=10, every=0.05)
        seen_after = time.monotonic() - opened_at
        assert seen_after < 1.5, f"bob saw the request after {seen_after:.2f} s"
        print(f"bob's TUI showed alice's request {seen_after:.2f} s after she opened it")
        wait_for_text(server, "review 1 for you", timeout=10)
    finally:
        tmux(server, "kill-server")

    # A forged approval: the store is the service's alone.
    forged = _as(
        team,
        ALICE,
        team.python,
        "-c",
        "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); "
        "db.execute(\"insert into approvals values (null, 1, 'x', 'y', 'z', 0)\"); db.commit()",
        str(team.store),
    )
    assert forged.returncode != 0 and "unable to open database" in forged.stderr, forged.stderr
    assert _store_rows(team, "select count(*) from approvals") == [(0,)]

    # Root in her own user namespace, with a hostname of her choosing, is still alice.
    env_args = " ".join(f"{k}={v}" for k, v in team.env[ALICE].items())
    spoof = run(
        "runuser",
        "-u",
        ALICE,
        "--",
        "unshare",
        "-r",
        "-u",
        "sh",
        "-c",
        f"hostname vm; exec env -i {env_args} {team.python} -m virtui review approve {number}",
        check=False,
    )
    assert "forbid approving one's own" in _one_line(spoof)
    assert _store_rows(team, "select count(*) from approvals") == [(0,)]

    # Her own rules bind nobody: the service's do.
    _member_config(team, ALICE, f'desk = "{team.socket}"\nrequired_approvals = 0\n')
    own_rules = _one_line(_virtui(team, ALICE, "review", "merge", number, "--yes"))
    assert "has 0 of the 1 approvals from others it needs" in own_rules
    # Without the service, her own desk has no way to the host: read-only libvirt does
    # not even give her the configuration to draft on.
    _member_config(team, ALICE, "required_approvals = 0\n")
    alone = _virtui(
        team, ALICE, "review", "propose", "-c", team.daemon.readonly_uri, DOMAIN, str(proposal)
    )
    assert "operation forbidden" in _one_line(alone)
    assert _memory(team) == 131072
    _member_config(team, ALICE, f'desk = "{team.socket}"\n')

    # The history's config is the service's: no member can plant a program in it.
    planted = _as(
        team,
        ALICE,
        "sh",
        "-c",
        f"printf '[gpg]\\n\\tprogram = /tmp/pwn\\n' >> {team.history}/config",
    )
    assert planted.returncode != 0 and "Permission denied" in planted.stderr

    # The ordinary flow: bob approves, alice merges, the service defines it.
    approved = _virtui(team, BOB, "review", "approve", number)
    assert approved.returncode == 0, approved.stderr
    merged = _virtui(team, ALICE, "review", "merge", number, "--yes")
    assert merged.returncode == 0, merged.stderr
    assert f"#{number} merged into {DOMAIN}" in merged.stdout
    assert _memory(team) == 98304  # read back from libvirt

    log = _git_log(team)
    assert log.startswith(f"{SERVICE} <{SERVICE}@{host}>"), log
    assert f"Author: {ALICE}@{host}" in log
    assert f"Approved-by: {BOB}@{host}" in log and f"Merged-by: {ALICE}@{host}" in log
    events = _store_rows(team, f"select user, kind from events where change_id = {number}")
    assert (f"{ALICE}@{host}", "merged") in events
    assert not [user for user, _kind in events if str(user).startswith("root@")]

    # A member elsewhere (another network namespace) reaches it over SSH, as herself.
    with _far_member(team, BOB) as far:
        said = far("review", "comment", number, "checked from afar")
        assert said.returncode == 0, said.stderr
        listing = far("review", "list", "--json")
        assert listing.returncode == 0, listing.stderr
        (shown,) = json.loads(listing.stdout)
        assert (shown["id"], shown["state"], shown["title"]) == (
            int(number),
            "merged",
            "deskvm: less memory",
        )
    comments = _store_rows(team, f"select author, text from comments where change_id = {number}")
    assert (f"{BOB}@{host}", "checked from afar") in comments


Far = Callable[..., subprocess.CompletedProcess[str]]


@contextmanager
def _far_member(team: DeskTeam, user: str) -> Iterator[Far]:
    """``user`` in a network namespace of its own, with the desk's machine at
    NEAR_ADDRESS where a private sshd listens; yields ``virtui ARGS`` run there as
    ``user``, whose config names the desk as ssh://USER@desk/SOCKET."""
    home = Path(team.env[user]["HOME"])
    ssh_dir = team.base / "sshd"
    ssh_dir.mkdir(mode=0o755)
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ssh_dir / "host_key"))
    (home / ".ssh").mkdir(mode=0o700)
    key = home / ".ssh" / "id_ed25519"
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key))
    (ssh_dir / "authorized_keys").write_text(Path(f"{key}.pub").read_text())
    (ssh_dir / "authorized_keys").chmod(0o644)
    (ssh_dir / "sshd_config").write_text(
        f"ListenAddress {NEAR_ADDRESS}\nPort {SSH_PORT}\nHostKey {ssh_dir / 'host_key'}\n"
        f"AuthorizedKeysFile {ssh_dir / 'authorized_keys'}\nPidFile {ssh_dir / 'pid'}\n"
        "UsePAM no\nStrictModes no\nPasswordAuthentication no\n"
    )
    (home / ".ssh" / "config").write_text(
        f"Host desk\n  HostName {NEAR_ADDRESS}\n  Port {SSH_PORT}\n  IdentityFile {key}\n"
        "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n"
    )
    relay = [team.python, "-m", "virtui"]
    if "PYTHONPATH" in team.env[user]:
        relay = ["env", f"PYTHONPATH={team.env[user]['PYTHONPATH']}", *relay]
    _member_config(
        team,
        user,
        f'desk = "ssh://{user}@desk{team.socket}"\ndesk_relay = {json.dumps(relay)}\n',
    )
    _chown(home, user)
    run("ip", "netns", "del", FAR, check=False)
    run("ip", "link", "del", "vtdk0", check=False)
    sshd: subprocess.Popen[str] | None = None
    try:
        run("ip", "netns", "add", FAR)
        run("ip", "link", "add", "vtdk0", "type", "veth", "peer", "name", "vtdk1")
        run("ip", "link", "set", "vtdk1", "netns", FAR)
        run("ip", "addr", "add", f"{NEAR_ADDRESS}/30", "dev", "vtdk0")
        run("ip", "link", "set", "vtdk0", "up")
        inside = ("ip", "netns", "exec", FAR)
        run(*inside, "ip", "addr", "add", f"{FAR_ADDRESS}/30", "dev", "vtdk1")
        run(*inside, "ip", "link", "set", "vtdk1", "up")
        run(*inside, "ip", "link", "set", "lo", "up")
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation folder
        sshd = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(ssh_dir / "sshd_config")],
            stderr=subprocess.PIPE,
            text=True,
        )
        assert sshd.stderr is not None
        ready, _, _ = select.select([sshd.stderr], [], [], 15)
        line = sshd.stderr.readline() if ready else ""
        assert "listening" in line.lower(), f"sshd did not start: {line}"
        env = [f"{k}={v}" for k, v in team.env[user].items()]

        def far(*args: str) -> subprocess.CompletedProcess[str]:
            return run(
                *inside,
                "runuser",
                "-u",
                user,
                "--",
                "env",
                "-i",
                *env,
                team.python,
                "-m",
                "virtui",
                *args,
                check=False,
            )

        yield far
    finally:
        if sshd is not None:
            sshd.terminate()
            sshd.wait(10)
        run("ip", "link", "del", "vtdk0", check=False)
        run("ip", "netns", "del", FAR, check=False)
