"""Rules of trust that need no libvirt: URIs, dangerous edits, secrets, identity, rules."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

from virtui.config.hostsfile import ConfigError, load_review_config
from virtui.config.uripolicy import UriRefused, check_in_app, check_readonly, refusal
from virtui.review.danger import DangerRefused, check_emulator, warnings
from virtui.review.secrets import REDACTED, redact, restore
from virtui.review.xmlsafe import XmlRefused, check_identity
from virtui.text import csv_cell, visible

UUID = "00000000-0000-4000-8000-000000000001"
BASE = f"""<domain type='kvm'>
  <name>web01</name>
  <uuid>{UUID}</uuid>
  <memory unit='KiB'>1048576</memory>
  <vcpu>1</vcpu>
  <os><type>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <graphics type='vnc' port='-1' passwd='s3cret-pw'/>
  </devices>
</domain>"""


@pytest.mark.parametrize(
    "uri",
    [
        "qemu+ext:///system?command=/tmp/x",
        "QEMU+EXT:///system",
        "qemu+ssh://h/system?command=/tmp/ssh",
        "qemu+ssh://h/system?netcat=/tmp/nc",
        "qemu+ssh://h/system?proxy=netcat",
        "qemu+ssh://h/system?socket=/x;touch%20/tmp/p",
        "qemu+libssh2://h/system?no_verify=1;%63ommand=/tmp/x",  # ';' and escapes, as libvirt
        "qemu+tcp://h/system?keyfile=k&COMMAND=/tmp/x",
        "qemu+ssh://127.0.0.1/system?command%00x=/tmp/pwn",  # libvirt reads "command"
        "qemu+ssh://h/system?netcat%00=/tmp/nc",
        "qemu+ssh://h/system?proxy%00=netcat",
        "qemu+ssh://h/system?comm+and=/tmp/x",
        "qemu+ssh://-oProxyCommand=touch%20x/system",  # ssh reads a leading '-' as an option
        "qemu+ssh://-F/tmp/cfg@h/system",
        "qemu+ssh://h/system?socket=/x;touch%20/tmp/p",
        "qemu+ssh://h/system?keyfile=%0a/k",
        "qemu+whatever://h/system",  # a transport not on the list
        "nosuchdriver:///system",
        "qemu:///embed?root=/tmp/someone-elses",
        "qemu:///embed",
        "qemu:///system?root=/tmp/x",
    ],
)
def test_uris_that_run_programs_are_refused_in_the_app(uri: str) -> None:
    assert refusal(uri)
    with pytest.raises(UriRefused, match="only with -c on the command line"):
        check_in_app(uri)
    with pytest.raises(UriRefused, match="--readonly refuses it"):
        check_readonly(uri)


@pytest.mark.parametrize(
    "uri",
    [
        "qemu:///system",
        "test:///default",
        "qemu+ssh://root@h:2222/system?keyfile=/k&no_verify=1",
        "qemu+unix:///system?socket=/run/x/libvirt-sock",  # a local socket runs nothing
        "qemu+tcp://10.0.0.1/system",
        "qemu+ssh://admin@[fd00::1]:22/system?known_hosts=/k/h;no_tty=1",
        "qemu+tls://h.example.org/system?pkipath=/etc/pki/x",
        "qemu:///session",
        "test:///srv/nodes/fleet.xml",
        "replay:///srv/recordings/host.json",
    ],
)
def test_ordinary_uris_are_accepted(uri: str) -> None:
    assert refusal(uri) == ""
    check_in_app(uri)
    check_readonly(uri)


def test_a_uri_with_control_characters_is_refused_in_the_app() -> None:
    with pytest.raises(UriRefused, match="control characters"):
        check_in_app("test:///default\n2026 forged line")


def test_control_characters_are_made_visible_and_csv_cells_cannot_be_formulas() -> None:
    assert visible("a\x1b]0;pwned\x07\x1b[2J") == "a\\x1b]0;pwned\\x07\\x1b[2J"
    assert visible("line\nbreak\u202e") == "line\\x0abreak\\u202e"
    assert csv_cell("=2+5+cmd|' -C calc'!A0") == "'=2+5+cmd|' -C calc'!A0"
    assert csv_cell("-x") == "'-x" and csv_cell("@x") == "'@x" and csv_cell("\tx") == "'\\x09x"
    assert csv_cell("web01") == "web01"


def _with(devices: str = "", top: str = "", emulator: str = "") -> str:
    xml = BASE.replace("</devices>", devices + "</devices>").replace("</domain>", top + "</domain>")
    if emulator:
        xml = xml.replace("/usr/bin/qemu-system-x86_64", emulator)
    return xml


@pytest.mark.parametrize(
    ("proposal", "flag"),
    [
        (_with(emulator="/tmp/evil"), "emulator changed to /tmp/evil"),
        (
            _with(
                top="<qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
                "<qemu:arg value='-x'/></qemu:commandline>"
            ),
            "qemu: namespace passthrough",
        ),
        (
            _with("<hostdev mode='subsystem' type='pci'><source/></hostdev>"),
            "host device passthrough",
        ),
        (
            _with("<filesystem type='mount'><source dir='/'/><target dir='r'/></filesystem>"),
            "host filesystem passthrough (/)",
        ),
        (_with(top="<seclabel type='none'/>"), "security label type='none'"),
        (
            _with("<disk type='file'><source file='/etc/shadow'/><target dev='vdb'/></disk>"),
            "disk /etc/shadow is outside the host's storage pools",
        ),
        (
            _with("<graphics type='spice' listen='0.0.0.0'/>"),
            "spice console listens on 0.0.0.0",
        ),
        (
            _with("<interface type='ethernet'><script path='/tmp/s'/></interface>"),
            "interface script /tmp/s runs on the host",
        ),
        (
            _with("<serial type='file'><source path='/etc/passwd'/></serial>"),
            "serial writes to the host path /etc/passwd",
        ),
    ],
)
def test_each_dangerous_edit_is_flagged(proposal: str, flag: str) -> None:
    found = warnings(BASE, proposal, pool_paths=["/var/lib/libvirt/images"])
    assert any(flag in line for line in found), found


def test_harmless_edits_and_disks_in_pools_are_not_flagged() -> None:
    inside = _with(
        "<disk type='file'><source file='/var/lib/libvirt/images/a.qcow2'/>"
        "<target dev='vdb'/></disk><graphics type='vnc' listen='127.0.0.1'/>"
    )
    assert warnings(BASE, inside, pool_paths=["/var/lib/libvirt/images"]) == []
    assert warnings(BASE, BASE.replace("1048576", "524288")) == []


def test_an_emulator_the_host_does_not_offer_is_refused() -> None:
    with pytest.raises(DangerRefused, match="not one of the host's"):
        check_emulator(BASE, _with(emulator="/tmp/evil"), {"/usr/bin/qemu-system-x86_64"})
    with pytest.raises(DangerRefused, match="could not be read"):
        check_emulator(BASE, _with(emulator="/tmp/evil"), None)
    check_emulator(BASE, _with(emulator="/usr/bin/qemu-x"), {"/usr/bin/qemu-x"})  # offered


@pytest.mark.parametrize(
    ("proposal", "why"),
    [
        (BASE.replace(UUID, "00000000-0000-4000-8000-000000000002"), "names UUID"),
        (BASE.replace(f"<uuid>{UUID}</uuid>", ""), r"UUID \(none\)"),
        (BASE.replace("<name>web01</name>", "<name>db01</name>"), "renames web01 to db01"),
    ],
)
def test_a_proposal_is_pinned_to_its_own_domain(proposal: str, why: str) -> None:
    with pytest.raises(XmlRefused, match=why):
        check_identity(BASE, proposal, UUID)


def test_secrets_are_redacted_and_restored_from_the_live_text() -> None:
    shown = redact(BASE)
    assert "s3cret-pw" not in shown and f"passwd='{REDACTED}'" in shown
    assert restore(shown, BASE) == BASE
    with pytest.raises(ValueError, match="redacted on export"):
        restore(shown, BASE.replace(" passwd='s3cret-pw'", ""))


def test_broken_config_makes_the_rules_unreadable(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[review]\nrequired_approvals = 2\n[[hosts]\nuri = 'x'\n")  # a typo
    with pytest.raises(ConfigError):
        load_review_config(config)


def test_identity_is_the_os_account_not_the_environment(tmp_path: Path) -> None:
    code = "from virtui.review.desk import local_user; print(local_user())"
    env = {**os.environ, "USER": "bob", "LOGNAME": "bob", "USERNAME": "bob"}
    shown = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert shown.split("@")[0] == pwd.getpwuid(os.geteuid()).pw_name


def test_the_demo_root_is_the_only_embed_root_and_only_while_it_is_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from virtui.backends.libvirt.demo import prepare_root
    from virtui.config.uripolicy import demo_root

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    uri = f"qemu:///embed?root={demo_root()}"
    with pytest.raises(UriRefused, match="cannot be checked"):
        check_in_app(uri)  # not made yet
    prepare_root(demo_root())
    assert oct(demo_root().stat().st_mode & 0o777) == "0o700"
    check_in_app(uri)
    demo_root().chmod(0o755)
    with pytest.raises(UriRefused, match="open to other users"):
        check_in_app(uri)


POOLS = ["/var/lib/libvirt/images"]


@pytest.mark.parametrize(
    ("added", "flag"),
    [
        ("<interface type='ethernet'><downscript path='/tmp/pwn'/></interface>", "downscript"),
        (
            "<disk type='file' device='disk'><source file='/var/lib/libvirt/images/a.qcow2'/>"
            "<backingStore type='file'><source file='/etc/shadow'/></backingStore>"
            "<target dev='vdc'/></disk>",
            "<devices/disk/backingStore>",
        ),
        (
            "<memory model='nvdimm'><source><path>/etc/passwd</path></source>"
            "<target><size unit='KiB'>1024</size></target></memory>",
            "'nvdimm' is not one of",
        ),
        ("<input type='evdev'><source dev='/dev/input/event0'/></input>", "<devices/input"),
        (
            "<tpm model='tpm-crb'><backend type='passthrough'><device path='/dev/tpm0'/>"
            "</backend></tpm>",
            "'passthrough' is not one of emulator",
        ),
        ("<audio id='2' type='file' path='/tmp/a.wav'/>", "<devices/audio type='file'>"),
        ("<shmem name='x'><server path='/tmp/s'/></shmem>", "<devices/shmem>"),
        (
            "<interface type='vhostuser'><source type='unix' path='/tmp/v' mode='client'/>"
            "</interface>",
            "'vhostuser' is not one of",
        ),
        ("<graphics type='vnc'><listen type='socket' socket='/tmp/s'/></graphics>", "socket"),
        ("<channel type='unix'><source mode='bind' path='/etc/x'/></channel>", "/etc/x"),
        ("<rng model='virtio'><backend model='random'>/dev/sda</backend></rng>", "/dev/sda"),
        ("<smartcard mode='host'/>", "<devices/smartcard>"),
        ("<newfangled path='/etc/shadow'/>", "<devices/newfangled> is not on the host-safety"),
    ],
)
def test_host_reaching_elements_the_old_list_did_not_know_are_flagged(
    added: str, flag: str
) -> None:
    found = warnings(BASE, _with(added), pool_paths=POOLS)
    assert any(flag in line for line in found), found


@pytest.mark.parametrize(
    ("os_part", "flag"),
    [
        ("<loader>/tmp/l</loader>", "<os/loader>"),
        ("<nvram>/tmp/n</nvram>", "<os/nvram>"),
        ("<initrd>/tmp/i</initrd>", "<os/initrd>"),
        ("<kernel>/tmp/k</kernel>", "<os/kernel>"),
    ],
)
def test_firmware_and_kernels_from_host_paths_are_flagged(os_part: str, flag: str) -> None:
    proposal = BASE.replace("<type>hvm</type>", f"<type>hvm</type>{os_part}")
    assert any(flag in line for line in warnings(BASE, proposal, pool_paths=POOLS))


def test_a_new_domain_is_checked_whole_and_an_ordinary_one_passes() -> None:
    from virtui.review.hostreach import domain_reach

    emulators = ["/usr/bin/qemu-system-x86_64"]
    ordinary = BASE.replace(" passwd='s3cret-pw'", "").replace(
        "</devices>",
        "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        "<source file='/var/lib/libvirt/images/web01.qcow2'/><target dev='vda' bus='virtio'/>"
        "</disk><interface type='network'><source network='default'/><model type='virtio'/>"
        "</interface><serial type='pty'><target port='0'/></serial>"
        "<channel type='unix'><source mode='bind'/>"
        "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
        "<input type='tablet' bus='usb'/><rng model='virtio'><backend model='random'>"
        "/dev/urandom</backend></rng><memballoon model='virtio'/></devices>",
    )
    assert domain_reach("", ordinary, POOLS, emulators) == []
    evil = (
        ordinary.replace("/usr/bin/qemu-system-x86_64", "/tmp/pwn").replace(
            "</devices>",
            "<filesystem type='mount'><source dir='/'/><target dir='r'/></filesystem>"
            "<serial type='file'><source path='/etc/x'/></serial></devices>",
        )
        + ""
    )
    found = domain_reach("", evil, POOLS, emulators)
    assert any("emulator changed to /tmp/pwn: not one of the host's" in f for f in found)
    assert any("host filesystem passthrough (/)" in f for f in found)
    assert any("serial writes to the host path /etc/x" in f for f in found)


def test_network_changes_are_checked_too() -> None:
    from virtui.review.hostreach import network_reach

    net = (
        "<network><name>n</name><forward mode='nat'/><bridge name='virbr9'/>"
        "<ip address='10.1.1.1' prefix='24'><dhcp><range start='10.1.1.2' end='10.1.1.9'/>"
        "<host mac='52:54:00:00:00:01' ip='10.1.1.5'/></dhcp></ip></network>"
    )
    assert network_reach("", net) == []
    script = net.replace(
        "</network>",
        "<dnsmasq:options xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'>"
        "<dnsmasq:option value='dhcp-script=/tmp/pwn'/></dnsmasq:options></network>",
    )
    assert network_reach(net, script) == ["dnsmasq: options passed to dnsmasq, which runs as root"]
    tftp = net.replace("<dhcp>", "<tftp root='/etc'/><dhcp>")
    assert network_reach(net, tftp) == ["<ip/tftp> dnsmasq serves a host folder"]


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("<qemu:env name='DB_PASSWORD' value='hunter2'/>", "name='DB_PASSWORD'"),
        ("<foo api_key='abc' token=\"t\" monkey='m'/>", "monkey='m'"),
        ("<passphrase>pp</passphrase>", "<passphrase>"),
        ("<graphics type='vnc' passwd='pw' keymap='en-us'/>", "keymap='en-us'"),
        ("<auth><secret type='iscsi' usage='u'/></auth>", "usage='u'"),
    ],
)
def test_secrets_named_like_secrets_are_redacted_and_the_rest_kept(line: str, kept: str) -> None:
    from virtui.review.secrets import REDACTED, redact

    shown = redact(line)
    assert kept in shown
    for secret in ("hunter2", "abc", "'t'", '"t"', ">pp<", "'pw'"):
        assert secret not in shown
    if "usage" not in line:
        assert REDACTED in shown


@pytest.mark.parametrize(
    ("added", "kind"),
    [
        ("<interface type='ethernet'><downscript path='/tmp/pwn'/></interface>", "script"),
        ("<hostdev mode='subsystem' type='usb'/>", "passthrough"),
        ("<filesystem type='mount'><source dir='/'/><target dir='r'/></filesystem>", "passthrough"),
        ("<graphics type='vnc' listen='0.0.0.0'/>", "listen"),
        ("<serial type='file'><source path='/etc/x'/></serial>", "host-path"),
        ("<newfangled path='/etc/shadow'/>", "unlisted"),
    ],
)
def test_each_flag_has_the_kind_forbid_names(added: str, kind: str) -> None:
    from virtui.model.config import REACH_KINDS
    from virtui.review.hostreach import domain_reach_kinds

    found = domain_reach_kinds(BASE, _with(added), POOLS)
    assert kind in REACH_KINDS
    assert kind in {reach.kind for reach in found}, found
