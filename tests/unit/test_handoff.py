"""The graphical console handoff: the tunnel command for each kind of URI."""

from __future__ import annotations

from virtui.model.detail import GraphicsInfo
from virtui.monitor.handoff import LocalPorts, handoff

VNC = GraphicsInfo("vnc", "127.0.0.1", 5901)


def _ports(busy: frozenset[int] = frozenset()) -> LocalPorts:
    return LocalPorts(is_free=lambda port: port not in busy)


def test_an_ssh_host_gets_a_tunnel_with_its_user_port_and_key_over_one_master() -> None:
    uri = "qemu+ssh://ops@h1.example:2222/system?keyfile=/home/ops/.ssh/lab"
    found = handoff(uri, VNC, _ports(), environ={})
    assert found.tunnel == (
        "ssh -N -o ControlMaster=auto -o 'ControlPath=~/.ssh/virtui-cm-%r@%h:%p' "
        "-o ControlPersist=600 -o ExitOnForwardFailure=yes -L 15901:127.0.0.1:5901 "
        "-p 2222 -i /home/ops/.ssh/lab ops@h1.example"
    )
    assert found.viewer_uri == "vnc://127.0.0.1:15901"
    assert found.vv == "[virt-viewer]\ntype=vnc\nhost=127.0.0.1\nport=15901\ndelete-this-file=0\n"
    assert "password" not in found.vv


def test_a_console_listening_everywhere_is_reached_on_the_hosts_loopback() -> None:
    spice = GraphicsInfo("spice", "0.0.0.0", 5930)
    found = handoff("qemu+tcp://10.0.0.5/system", spice, _ports(), environ={})
    assert found.tunnel.endswith("-L 15930:127.0.0.1:5930 10.0.0.5")
    assert found.viewer_uri == "spice://127.0.0.1:15930"


def test_a_local_host_needs_no_tunnel() -> None:
    found = handoff("qemu:///system", VNC, _ports(), environ={})
    assert found.tunnel == ""
    assert found.viewer_uri == "vnc://127.0.0.1:5901"


def test_a_hostile_uri_cannot_smuggle_a_shell_word_into_the_command() -> None:
    found = handoff("qemu+ssh://x;rm -rf ~@h1/system?keyfile=$(id)", VNC, _ports(), environ={})
    assert "'$(id)'" in found.tunnel and "$(id) " not in found.tunnel.replace("'$(id)'", "")


def test_two_hosts_with_the_same_display_get_two_local_ports() -> None:
    """Both at :5900 got -L 15900: the second tunnel failed to bind, and the viewer
    showed the first host's guest — keystrokes went to the wrong VM."""
    ports = _ports()
    vnc = GraphicsInfo("vnc", "127.0.0.1", 5900)
    one = handoff("qemu+ssh://ops@h1/system", vnc, ports, environ={})
    two = handoff("qemu+ssh://ops@h2/system", vnc, ports, environ={})
    assert one.port != two.port
    assert f"-L {one.port}:127.0.0.1:5900" in one.tunnel
    assert f"-L {two.port}:127.0.0.1:5900" in two.tunnel
    assert handoff("qemu+ssh://ops@h1/system", vnc, ports, environ={}).port == one.port


def test_a_local_port_in_use_is_passed_over_and_a_failed_forward_ends_the_tunnel() -> None:
    ports = _ports(busy=frozenset({15900}))
    found = handoff("qemu+ssh://ops@h1/system", GraphicsInfo("vnc", "", 5900), ports, environ={})
    assert found.port == 15901
    assert "-o ExitOnForwardFailure=yes" in found.tunnel  # never "succeeds" unbound


def test_the_tunnel_says_how_long_it_stays_and_how_to_close_it() -> None:
    found = handoff("qemu+ssh://ops@h1/system", VNC, _ports(), environ={})
    assert "ControlPersist=600" in found.tunnel
    assert found.close == ("ssh -O exit -o 'ControlPath=~/.ssh/virtui-cm-%r@%h:%p' ops@h1")


def test_an_ssh_host_on_loopback_is_a_bastion_forward_not_this_machine() -> None:
    found = handoff("qemu+ssh://ops@127.0.0.1:2222/system", VNC, _ports(), environ={})
    assert found.tunnel.endswith("-p 2222 ops@127.0.0.1")
    assert found.host == "127.0.0.1" and found.port != VNC.port


def test_inside_ssh_on_a_jump_host_the_commands_are_for_the_workstation() -> None:
    """The viewer is on the person's workstation, not on the jump host virtui runs on."""
    jump = {"SSH_CONNECTION": "192.0.2.7 50022 198.51.100.4 22", "USER": "spoof"}
    remote = handoff("qemu+ssh://ops@h1/system", VNC, _ports(), environ=jump, account="amy")
    assert remote.on_workstation
    assert remote.tunnel.startswith("ssh -N -J amy@198.51.100.4:22 ")
    assert remote.tunnel.endswith("ops@h1")
    local = handoff("qemu:///system", VNC, _ports(), environ=jump, account="amy")
    assert local.on_workstation
    assert local.tunnel.endswith(f"-L {local.port}:127.0.0.1:5901 -p 22 amy@198.51.100.4")
    assert local.viewer_uri == f"vnc://127.0.0.1:{local.port}"
