"""A review desk for a team: two OS accounts on one jump host, one shared store, one
real libvirtd, and a git history of every merged configuration.

alice proposes; bob, in his own virtui (a TUI under tmux, run as bob), sees it within a
second, comments and approves; alice cannot approve her own; alice merges; the history
has the commit with bob's trailer; a change made with virsh shows up as a drift commit
made by bob's virtui. File modes and the group are checked on the way.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import libvirt
import pytest

from tests.integration.accounts import python_for, remove_user, run, start_tui_as
from tests.integration.daemons import Daemon, daemons_available
from tests.integration.tmux import tmux, wait_for_text
from tests.requirements import require

# OS accounts and a group with fixed names: one worker.
pytestmark = pytest.mark.xdist_group("accounts")

GROUP = "vt-team"
ALICE, BOB = "vt-alice", "vt-bob"
DOMAIN = "teamvm"
DOMAIN_XML = f"""<domain type='qemu'>
  <name>{DOMAIN}</name>
  <memory unit='MiB'>128</memory>
  <currentMemory unit='MiB'>128</currentMemory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
</domain>"""


@dataclass
class Team:
    base: Path
    store: Path
    history: Path
    uri: str
    env: dict[str, dict[str, str]]  # user -> environment of their virtui
    python: str


def _as(user: str, team: Team, *args: str) -> subprocess.CompletedProcess[str]:
    """``virtui ARGS`` run as ``user`` (runuser: the OS account is who acts)."""
    env = [f"{k}={v}" for k, v in team.env[user].items()]
    return run(
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


def _git_log(team: Team) -> str:
    return run(
        "git",
        "-c",
        "safe.directory=*",
        "--git-dir",
        str(team.history),
        "log",
        "--format=%an%n%B%n----",
        "refs/heads/main",
        check=False,
    ).stdout


@pytest.fixture
def team(tmp_path: Path) -> Iterator[Team]:
    ready = os.geteuid() == 0 and shutil.which("runuser") and shutil.which("tmux")
    require("" if ready else "needs root, runuser and tmux", "run as root with runuser and tmux")
    require(daemons_available(), "start libvirtd")
    run("groupadd", "-f", GROUP)
    for user in (ALICE, BOB):
        remove_user(user)
        run("useradd", "--no-create-home", "--shell", "/bin/sh", "--groups", GROUP, user)
    base = Path(f"/tmp/vt-team-{os.getpid()}")
    base.mkdir(mode=0o755)
    daemon = Daemon(private_config=True, everyone=True)
    daemon.start()
    try:
        conn = libvirt.open(daemon.qemu_uri)
        conn.defineXMLFlags(DOMAIN_XML, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
        conn.close()
        desk = base / "desk"
        store, history = desk / "reviews.db", desk / "config.git"
        envs: dict[str, dict[str, str]] = {}
        python, extra = python_for(ALICE)
        for user in (ALICE, BOB):
            home = base / user
            for sub in ("config/virtui", "state", "cache"):
                (home / sub).mkdir(parents=True)
            (home / "config" / "virtui" / "config.toml").write_text(
                f'[[hosts]]\nuri = "{daemon.qemu_uri}"\nname = "h"\n\n'
                f'[review]\nstore = "{store}"\nhistory = "{history}"\n'
                "required_approvals = 1\nforbid_self_approval = true\n"
            )
            uid = pwd.getpwnam(user).pw_uid
            for path in [home, *home.rglob("*")]:
                os.chown(path, uid, -1)
            envs[user] = {
                "HOME": str(home),
                "XDG_CONFIG_HOME": str(home / "config"),
                "XDG_STATE_HOME": str(home / "state"),
                "XDG_CACHE_HOME": str(home / "cache"),
                "PATH": os.environ["PATH"],
                "TERM": "xterm-256color",
                "USER": "root",  # no environment variable changes who you are
                **extra,
            }
        yield Team(base, store, history, daemon.qemu_uri, envs, python)
    finally:
        daemon.remove()
        shutil.rmtree(base, ignore_errors=True)
        for user in (ALICE, BOB):
            remove_user(user)
        run("groupdel", GROUP, check=False)


def test_two_admins_one_shared_desk_and_a_git_history(team: Team, tmp_path: Path) -> None:
    done = run(
        sys.executable,
        "-m",
        "virtui",
        "review",
        "--store",
        str(team.store),
        "init-shared",
        "--group",
        GROUP,
        "--history",
        str(team.history),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    gid = grp.getgrnam(GROUP).gr_gid
    folder = team.store.parent.stat()
    assert stat.S_IMODE(folder.st_mode) == 0o2770 and folder.st_gid == gid
    assert stat.S_IMODE(team.store.stat().st_mode) == 0o660 and team.store.stat().st_gid == gid

    # bob's own virtui, as bob, on the review desk: a team's desk opens on "for me".
    server = f"virtui-team-{os.getpid()}"
    try:
        start_tui_as(server, BOB, team.env[BOB], team.python, DOMAIN)

        proposal = team.base / "proposal.xml"
        conn = libvirt.open(team.uri)
        live = conn.lookupByName(DOMAIN).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        conn.close()
        proposal.write_text(
            live.replace(
                "<memory unit='KiB'>131072</memory>", "<memory unit='KiB'>98304</memory>"
            ).replace("<currentMemory unit='KiB'>131072<", "<currentMemory unit='KiB'>98304<")
        )
        proposal.chmod(0o644)
        made = _as(
            ALICE,
            team,
            "review",
            "propose",
            "-c",
            team.uri,
            DOMAIN,
            str(proposal),
            "--title",
            "teamvm: less memory",
        )
        assert made.returncode == 0, made.stderr
        number = made.stdout.strip()
        opened = _as(ALICE, team, "review", "open", number)
        assert opened.returncode == 0, opened.stderr
        opened_at = time.monotonic()
        wait_for_text(server, "teamvm: less memory", timeout=10, every=0.05)
        seen_after = time.monotonic() - opened_at
        assert seen_after < 2.0, f"bob saw the request after {seen_after:.2f} s"
        print(f"bob's virtui showed alice's request {seen_after:.2f} s after she opened it")
        wait_for_text(server, "review 1 for you", timeout=10)  # the header, on every screen

        # Who acts is the OS account, whatever USER says.
        mine = _as(ALICE, team, "review", "approve", number)
        assert mine.returncode == 1 and "forbid approving one's own" in mine.stderr
        said = _as(BOB, team, "review", "comment", number, "96 MiB is plenty")
        assert said.returncode == 0, said.stderr
        approved = _as(BOB, team, "review", "approve", number)
        assert approved.returncode == 0, approved.stderr
        merged = _as(ALICE, team, "review", "merge", number, "--yes")
        assert merged.returncode == 0, merged.stderr

        log = _git_log(team)
        host = os.uname().nodename
        assert f"h/{DOMAIN}: teamvm: less memory" in log
        assert f"Approved-by: {BOB}@{host}" in log and f"Reviewed-by: {BOB}@{host}" in log
        assert f"Merged-by: {ALICE}@{host}" in log
        assert log.startswith(ALICE)
        committed = run(
            "git",
            "-c",
            "safe.directory=*",
            "--git-dir",
            str(team.history),
            "show",
            f"refs/heads/main:h/domain/{DOMAIN}.xml",
        ).stdout
        assert '<memory unit="KiB">98304</memory>' in committed

        # A change made with virsh, outside the desk: bob's virtui sees it and commits it.
        changed = tmp_path / "changed.xml"
        conn = libvirt.open(team.uri)
        xml = conn.lookupByName(DOMAIN).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        conn.close()
        changed.write_text(
            xml.replace("<vcpu placement='static'>1</vcpu>", "<vcpu placement='static'>2</vcpu>")
        )
        run("virsh", "-c", team.uri, "define", str(changed))
        deadline = time.monotonic() + 15
        while "outside virtui: drift seen at" not in _git_log(team):
            assert time.monotonic() < deadline, _git_log(team)
            time.sleep(0.2)
        drift = _git_log(team).split("----")[0]
        assert drift.startswith(BOB) and f"Seen-by: {BOB}@{host}" in drift

        # The WAL files the two made are the group's too, and open to it.
        for suffix in ("-wal", "-shm"):
            side = team.store.with_name(team.store.name + suffix)
            if side.exists():
                assert side.stat().st_gid == gid and stat.S_IMODE(side.stat().st_mode) == 0o660
    finally:
        tmux(server, "kill-server")
