"""Where QEMU logs are, and which daemon a URI's logging settings belong to."""

from __future__ import annotations

import pytest

from virtui.backends.base import BackendError
from virtui.backends.libvirt.logfiles import admin_uri, qemu_log_location


def test_qemu_log_paths_by_connection() -> None:
    embed = qemu_log_location("qemu:///embed?root=/var/tmp/e", "vm1")
    assert (embed.path, embed.readable_here) == ("/var/tmp/e/log/qemu/vm1.log", True)
    system = qemu_log_location("qemu:///system", "vm1")
    assert (system.path, system.readable_here) == ("/var/log/libvirt/qemu/vm1.log", True)
    remote = qemu_log_location("qemu+ssh://admin@h1/system", "vm1")
    assert not remote.readable_here
    assert remote.note == (
        "on h1: /var/log/libvirt/qemu/vm1.log "
        "(read it there, e.g. ssh admin@h1 tail -f /var/log/libvirt/qemu/vm1.log)"
    )
    keyed = qemu_log_location("qemu+ssh://root@h:2222/system?keyfile=/k/id&no_verify=1", "vm")
    assert "ssh -p 2222 -i /k/id root@h tail -f" in keyed.note  # user, port and key kept
    test = qemu_log_location("test:///default", "test")
    assert not test.readable_here and "test driver runs no QEMU" in test.note


def test_admin_uris_of_local_daemons_and_refusals_for_the_rest() -> None:
    assert admin_uri("qemu:///system") == "libvirtd:///system"
    assert admin_uri("qemu+unix:///system?socket=/tmp/d/libvirt-sock") == (
        "libvirtd:///system?socket=/tmp/d/libvirt-admin-sock"
    )
    with pytest.raises(BackendError, match="in-process driver has no daemon"):
        admin_uri("test:///default")
    with pytest.raises(BackendError, match="in-process driver has no daemon"):
        admin_uri("qemu:///embed?root=/x")
    with pytest.raises(BackendError, match="h1 is remote"):
        admin_uri("qemu+ssh://h1/system")
