"""``virtui review`` as a script would use it, against libvirt's test driver: exit codes,
JSON, and the desk's promises (secrets, rules, pinning, a full disk, a damaged store)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import libvirt
import pytest

from tests.fixtures.nodes import NodeDomain, write_node
from tests.integration.daemons import Daemon
from virtui.backends.libvirt.demo import guest_xml

SECRET = "t0p-s3cret"
VAULT = NodeDomain(
    "vault", vcpus=1, memory_mib=512, devices=f"<graphics type='vnc' port='-1' passwd='{SECRET}'/>"
)
OTHER = NodeDomain("other", vcpus=1, memory_mib=256)


@pytest.fixture
def node(tmp_path: Path) -> str:
    return f"test://{write_node(tmp_path / 'node.xml', [VAULT, OTHER])}"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }


def review(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "virtui", "review", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _xml(uri: str, name: str) -> str:
    conn = libvirt.open(uri)
    try:
        return str(conn.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE))
    finally:
        conn.close()


def _propose(node: str, tmp_path: Path, env: dict[str, str], xml: str, name: str = "vault") -> int:
    proposal = tmp_path / "proposal.xml"
    proposal.write_text(xml)
    done = review("propose", "-c", node, name, str(proposal), "--title", "t", env=env)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip())


def _less_memory(xml: str) -> str:
    return xml.replace("<currentMemory unit='KiB'>524288", "<currentMemory unit='KiB'>262144")


def test_the_whole_flow_with_exit_codes_and_json(
    node: str, tmp_path: Path, env: dict[str, str]
) -> None:
    number = _propose(node, tmp_path, env, _less_memory(_xml(node, "vault")))
    shown = json.loads(review("show", str(number), "--json", env=env).stdout)
    for key in ("id", "state", "host", "domain", "title", "author", "approvals", "warnings"):
        assert key in shown
    assert (shown["state"], shown["domain"], shown["warnings"]) == ("draft", "vault", [])
    assert any("262144" in line for line in shown["diff"])
    refused = review("merge", str(number), "--yes", env=env)
    assert refused.returncode == 1 and "draft: open it first" in refused.stderr
    assert review("open", str(number), env=env).returncode == 0
    assert review("comment", str(number), "looks right", env=env).returncode == 0
    listed = json.loads(review("list", "--json", env=env).stdout)
    assert [c["id"] for c in listed] == [number]
    merged = review("merge", str(number), "--yes", env=env)
    assert merged.returncode == 0, merged.stderr
    assert f"#{number} merged into vault" in merged.stdout
    again = review("merge", str(number), "--yes", env=env)
    assert again.returncode == 1 and "merged" in again.stderr
    assert review("show", "99", env=env).returncode == 1
    assert review("frobnicate", env=env).returncode == 2


def test_no_secret_in_any_display_export_or_log(
    node: str, tmp_path: Path, env: dict[str, str]
) -> None:
    xml = _xml(node, "vault")
    assert SECRET in xml  # libvirt gives it to virtui (secure XML)
    number = _propose(node, tmp_path, env, _less_memory(xml.replace(SECRET, "n3w-s3cret")))
    shown = review("show", str(number), env=env)
    as_json = review("show", str(number), "--json", env=env)
    patch = tmp_path / "out.patch"
    exported = review("export", str(number), "-o", str(patch), env=env)
    assert exported.returncode == 0
    assert stat.S_IMODE(patch.stat().st_mode) == 0o600
    assert review("export", str(number), "-o", str(patch), env=env).returncode == 1  # kept
    logs = "".join(p.read_text() for p in (tmp_path / "state").rglob("*.log"))
    for text in (shown.stdout, as_json.stdout, patch.read_text(), logs):
        assert SECRET not in text and "n3w-s3cret" not in text
    assert "(redacted)" in patch.read_text()
    # The secret is kept in the store, so a merge never loses it: an import restores it.
    number = _propose(node, tmp_path, env, _less_memory(xml))
    patch2 = tmp_path / "memory.patch"
    assert review("export", str(number), "-o", str(patch2), env=env).returncode == 0
    imported = review("import", str(patch2), "-c", node, env=env)
    assert imported.returncode == 0, imported.stderr
    from virtui.review.store import ReviewStore

    store = ReviewStore(tmp_path / "state" / "virtui" / "reviews.db")
    try:
        change = store.get(int(imported.stdout.strip()))
        assert change is not None and SECRET in change.proposed_xml and change.flags == []
    finally:
        store.close()


def test_a_patch_whose_base_hash_was_rewritten_imports_unverified(
    node: str, tmp_path: Path, env: dict[str, str]
) -> None:
    number = _propose(node, tmp_path, env, _less_memory(_xml(node, "vault")))
    patch = tmp_path / "p.patch"
    assert review("export", str(number), "-o", str(patch), env=env).returncode == 0
    text = patch.read_text()
    base = next(line for line in text.splitlines() if line.startswith("Base-SHA256:"))
    forged = tmp_path / "forged.patch"
    forged.write_text(text.replace(base, "Base-SHA256: " + "0" * 64))
    imported = review("import", str(forged), "-c", node, env=env)
    assert imported.returncode == 0 and "unverified" in imported.stderr
    shown = json.loads(review("show", imported.stdout.strip(), "--json", env=env).stdout)
    assert any("not verified" in w for w in shown["warnings"])


def test_a_proposal_for_another_domain_is_refused(
    node: str, tmp_path: Path, env: dict[str, str]
) -> None:
    other = _xml(node, "other")
    proposal = tmp_path / "p.xml"
    proposal.write_text(other)  # other's name and UUID, proposed for vault
    done = review("propose", "-c", node, "vault", str(proposal), env=env)
    assert done.returncode == 1 and "a change request edits only its own domain" in done.stderr
    renamed = _xml(node, "vault").replace("<name>vault</name>", "<name>vault2</name>")
    proposal.write_text(renamed)
    done = review("propose", "-c", node, "vault", str(proposal), env=env)
    assert done.returncode == 1 and "renames vault to vault2" in done.stderr


def test_an_emulator_the_host_lacks_is_refused_and_other_dangers_need_more_than_yes(
    node: str, tmp_path: Path, env: dict[str, str]
) -> None:
    xml = _xml(node, "vault")
    evil = xml.replace("</devices>", "<emulator>/tmp/evil</emulator></devices>")
    proposal = tmp_path / "p.xml"
    proposal.write_text(evil)
    done = review("propose", "-c", node, "vault", str(proposal), env=env)
    assert done.returncode == 1 and "not one of the host's" in done.stderr
    wide = xml.replace("type='vnc' port='-1'", "type='vnc' port='-1' listen='0.0.0.0'")
    number = _propose(node, tmp_path, env, wide)
    assert review("open", str(number), env=env).returncode == 0
    refused = review("merge", str(number), "--yes", env=env)
    assert refused.returncode == 1 and "--accept-warnings" in refused.stderr
    assert "listens on 0.0.0.0" in refused.stderr
    done = review("merge", str(number), "--yes", "--accept-warnings", env=env)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("config", "why"),
    [
        ("[review]\nrequired_approvals = 0\n[[hosts]\n", "merging is disabled"),  # a typo
        ("[reveiw]\nrequired_approvals = 1\n", "unknown table(s) [reveiw]"),  # and the defaults
        # (no approval needed) must not quietly apply
        ("[review]\nforbid_self_approval = true\n", "0 of the 1 approvals from others"),
    ],
)
def test_rules_fail_closed(
    node: str, tmp_path: Path, env: dict[str, str], config: str, why: str
) -> None:
    (tmp_path / "config" / "virtui").mkdir(parents=True)
    (tmp_path / "config" / "virtui" / "config.toml").write_text(config)
    number = _propose(node, tmp_path, env, _less_memory(_xml(node, "vault")))
    assert review("open", str(number), env=env).returncode == 0
    bob = review("approve", str(number), env={**env, "USER": "bob", "LOGNAME": "bob"})
    if "forbid" in config:  # USER=bob is still the author: no approval of one's own
        assert bob.returncode == 1 and "forbid approving one's own" in bob.stderr
    refused = review("merge", str(number), "--yes", env=env)
    assert refused.returncode == 1 and why in refused.stderr


def test_a_damaged_store_says_so_and_where(tmp_path: Path, env: dict[str, str]) -> None:
    store = tmp_path / "state" / "virtui" / "reviews.db"
    store.parent.mkdir(parents=True)
    store.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    done = review("list", env=env)
    assert done.returncode == 1
    assert str(store) in done.stderr and "damaged" in done.stderr
    assert "Traceback" not in done.stderr


# In a private mount namespace: the store on a 1 MiB tmpfs that the test fills up.
_FULL_DISK = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from virtui.monitor.store import DomainStore
    from virtui.review.desk import ReviewDesk, ReviewError, ReviewRules
    from virtui.review.ops import SetMemory
    from virtui.review.store import ReviewStore
    from virtui.monitor.hostports import HostPorts
    from virtui.monitor.sessions import open_sessions

    uri, folder = sys.argv[1:3]
    sessions = open_sessions([uri], names={uri: "h"})
    sessions[0].backend.connect()
    uuid = next(d.key.uuid for d in sessions[0].backend.poll().domains if d.name == "vault")

    def fill():
        fd = os.open(os.path.join(folder, "filler"), os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"x" * 4096)
        except OSError:
            os.close(fd)

    port = sessions[0].backend.domain_config_port()  # what HostPorts hands the desk
    real_define = port.define_config

    def define_then_fill(xml):
        result = real_define(xml)
        fill()
        return result

    port.define_config = define_then_fill
    desk = ReviewDesk(ReviewStore(Path(folder) / "reviews.db"),
                      HostPorts(lambda: sessions, DomainStore()), ReviewRules())
    change = desk.draft("h", uuid, "less", [SetMemory(262144)])
    desk.publish(change.id)
    try:
        desk.merge(change.id)
    except ReviewError as error:
        print("merge:", error)
    try:
        desk.comment(change.id, 0, "", "more words")
    except ReviewError as error:
        print("comment:", error)
    conn = sessions[0].backend._link.connection()
    print("live:", conn.lookupByUUIDString(uuid).XMLDesc(2).count("262144"))
    os.unlink(os.path.join(folder, "filler"))
    desk.recover()
    print("after:", desk.store.get(change.id).state.label)
    """
)


def test_a_full_disk_says_so_and_a_merge_libvirt_took_is_settled(node: str, tmp_path: Path) -> None:
    folder = tmp_path / "small"
    folder.mkdir()
    command = (
        f"mount -t tmpfs -o size=1m tmpfs {folder} && "
        f"exec {sys.executable} -c '{_FULL_DISK}' {node} {folder}"
    )
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "libvirt has the change (defined), but the store could not record it" in out
    assert "disk full: nothing recorded" in out
    assert "cannot rollback" not in out + done.stderr
    assert "live: 1" in out  # libvirt's configuration has the new memory
    assert "after: merged" in out


def test_propose_new_drafts_a_domain_that_is_not_there_yet(
    node: str, tmp_path: Path, env: dict[str, str]
) -> None:
    xml = (
        "<domain type='test'><name>fresh</name>"
        "<uuid>00000000-0000-4000-8000-0000000000f1</uuid>"
        "<memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>"
    )
    proposal = tmp_path / "fresh.xml"
    proposal.write_text(xml)
    done = review("propose", "--new", "-c", node, "fresh", str(proposal), env=env)
    assert done.returncode == 0, done.stderr
    listed = json.loads(review("list", "--json", env=env).stdout)
    (entry,) = [e for e in listed if e["domain"] == "fresh"]
    assert (entry["kind"], entry["summary"]) == ("new-domain", ["define new domain fresh"])
    taken = tmp_path / "vault.xml"
    taken.write_text(xml.replace("fresh", "vault").replace("f1<", "f2<"))
    refused = review("propose", "--new", "-c", node, "vault", str(taken), env=env)
    assert refused.returncode != 0 and "already has a domain named vault" in refused.stderr


def test_a_new_domain_reaching_the_host_is_flagged_and_its_emulator_never_runs(
    storage_daemon: Daemon, tmp_path: Path, env: dict[str, str]
) -> None:
    """Round 2 never checked a new domain: `merge --yes` of one naming /tmp/pwn as its
    emulator had libvirtd run it as root at the capability probe."""
    marker = tmp_path / "ran"
    program = tmp_path / "pwn"
    program.write_text(f"#!/bin/sh\ntouch {marker}\n")
    program.chmod(0o755)
    image = tmp_path / "evil.img"
    image.write_bytes(bytes(512))
    xml = guest_xml("virtui-test-evil-new", image, 1, 32).replace(
        "<devices>",
        f"<devices><emulator>{program}</emulator>"
        "<filesystem type='mount'><source dir='/'/><target dir='root'/></filesystem>",
    )
    xml = xml.replace("<name>", "<uuid>5c1e0000-0000-4000-8000-00000000beef</uuid><name>")
    proposal = tmp_path / "evil.xml"
    proposal.write_text(xml)
    uri = storage_daemon.qemu_uri
    done = review("propose", "--new", "-c", uri, "virtui-test-evil-new", str(proposal), env=env)
    assert done.returncode == 0, done.stderr
    number = done.stdout.strip()
    shown = json.loads(review("show", number, "--json", env=env).stdout)
    flags = " ".join(shown["warnings"])
    # `show` does not reach the host: what it cannot check there is flagged all the same.
    assert f"emulator changed to {program}" in flags
    assert "host filesystem passthrough (/)" in flags
    assert f"disk {image}" in flags
    assert review("open", number, env=env).returncode == 0
    refused = review("merge", number, "--yes", env=env)
    assert refused.returncode == 1 and "--accept-warnings" in refused.stderr
    assert f"emulator changed to {program}: not one of the host's" in refused.stderr
    conn = libvirt.open(uri)
    try:
        assert "virtui-test-evil-new" not in [d.name() for d in conn.listAllDomains(0)]
    finally:
        conn.close()
    assert not marker.exists()


def test_a_forbidden_kind_is_refused_at_draft_and_again_at_merge_whatever_is_accepted(
    node: str, tmp_path: Path, env: dict[str, str]
) -> None:
    xml = _xml(node, "vault")
    script = xml.replace(
        "</devices>",
        "<interface type='ethernet'><downscript path='/tmp/pwn'/></interface></devices>",
    )
    # Drafted while no rule forbids it ...
    number = _propose(node, tmp_path, env, script)
    assert review("open", str(number), env=env).returncode == 0
    (tmp_path / "config" / "virtui").mkdir(parents=True)
    (tmp_path / "config" / "virtui" / "config.toml").write_text('[review]\nforbid = ["script"]\n')
    # ... a rule added since refuses the merge, accepted warnings or not.
    refused = review("merge", str(number), "--yes", "--accept-warnings", env=env)
    assert refused.returncode == 1
    assert "refused by the rules ([review] forbid)" in refused.stderr
    assert "downscript /tmp/pwn runs on the host (script)" in refused.stderr
    assert "nothing was applied" in refused.stderr
    # and a new proposal of that kind is not drafted at all.
    proposal = tmp_path / "again.xml"
    proposal.write_text(script)
    again = review("propose", "-c", node, "vault", str(proposal), env=env)
    assert again.returncode == 1 and "no change request made" in again.stderr
    # A kind the rules do not name still only needs accepting.
    wide = xml.replace("type='vnc' port='-1'", "type='vnc' port='-1' listen='0.0.0.0'")
    allowed = _propose(node, tmp_path, env, wide)
    assert review("open", str(allowed), env=env).returncode == 0
    done = review("merge", str(allowed), "--yes", "--accept-warnings", env=env)
    assert done.returncode == 0, done.stderr
