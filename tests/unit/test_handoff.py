"""The graphical console handoff: the tunnel command for each kind of URI."""

from __future__ import annotations

from virtui.model.detail import GraphicsInfo
from virtui.monitor.handoff import handoff

VNC = GraphicsInfo("vnc", "127.0.0.1", 5901)


def test_an_ssh_host_gets_a_tunnel_with_its_user_port_and_key_over_one_master() -> None:
    found = handoff("qemu+ssh://ops@h1.example:2222/system?keyfile=/home/ops/.ssh/lab", VNC)
    assert found.tunnel == (
        "ssh -N -o ControlMaster=auto -o 'ControlPath=~/.ssh/virtui-cm-%r@%h:%p' "
        "-o ControlPersist=600 -L 15901:127.0.0.1:5901 -p 2222 -i /home/ops/.ssh/lab "
        "ops@h1.example"
    )
    assert found.viewer_uri == "vnc://127.0.0.1:15901"
    assert found.vv == "[virt-viewer]\ntype=vnc\nhost=127.0.0.1\nport=15901\ndelete-this-file=0\n"
    assert "password" not in found.vv


def test_a_console_listening_everywhere_is_reached_on_the_hosts_loopback() -> None:
    found = handoff("qemu+tcp://10.0.0.5/system", GraphicsInfo("spice", "0.0.0.0", 5930))
    assert found.tunnel.endswith("-L 15930:127.0.0.1:5930 10.0.0.5")
    assert found.viewer_uri == "spice://127.0.0.1:15930"


def test_a_local_host_needs_no_tunnel() -> None:
    found = handoff("qemu:///system", VNC)
    assert found.tunnel == ""
    assert found.viewer_uri == "vnc://127.0.0.1:5901"


def test_a_hostile_uri_cannot_smuggle_a_shell_word_into_the_command() -> None:
    found = handoff("qemu+ssh://x;rm -rf ~@h1/system?keyfile=$(id)", VNC)
    assert "'$(id)'" in found.tunnel and "$(id) " not in found.tunnel.replace("'$(id)'", "")
