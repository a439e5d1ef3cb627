"""Fixtures that boot real QEMU guests under libvirt's embedded driver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.integration.daemons import Daemon, daemons_available
from tests.integration.guests import remove_test_guests
from tests.requirements import require
from virtui.backends.libvirt.backend import LibvirtBackend
from virtui.backends.libvirt.connections import open_connection
from virtui.backends.libvirt.demo import DemoUnavailable, EmbeddedDemo, check_embedded_driver
from virtui.config.settings import cache_dir


def require_embedded_driver() -> None:
    """Skip where QEMU cannot run; in CI (which installs it) that is a failure instead."""
    try:
        check_embedded_driver()
    except DemoUnavailable as error:
        require(str(error), "run the embedded QEMU driver")


@pytest.fixture(scope="session")
def booted_demo() -> Iterator[EmbeddedDemo]:
    """The demo guests, booted once. libvirt allows one embed root per process, so every
    in-process embed test shares the demo's root (its QEMU probe cache is reused)."""
    require_embedded_driver()
    demo = EmbeddedDemo(cache_dir() / "demo-embed")
    demo.start(lambda message, step, steps: None)
    yield demo
    demo.stop()


@pytest.fixture
def embedded_demo(booted_demo: EmbeddedDemo) -> EmbeddedDemo:
    """The demo guests, there for this test: the demo app run in this process (the
    demo's own test) tears them down in the same root, and they are booted again."""
    names = {dom.name() for dom in open_connection(booted_demo.uri).listAllDomains(0)}
    if not all(guest.name in names for guest in booted_demo.guests):
        booted_demo.start(lambda message, step, steps: None)
    return booted_demo


@pytest.fixture
def embed_conn(embedded_demo: EmbeddedDemo) -> Iterator[libvirt.virConnect]:
    """The embedded driver through plain libvirt calls, for arranging and checking state
    without virtui's code. It is the process's shared connection (libvirt allows only
    ~16 embed opens per process), so it is not closed. Test guests are removed after."""
    conn = open_connection(embedded_demo.uri)
    yield conn
    remove_test_guests(conn)


@pytest.fixture
def embed_backend(embedded_demo: EmbeddedDemo) -> Iterator[LibvirtBackend]:
    """virtui's own backend on the embedded driver."""
    backend = LibvirtBackend(embedded_demo.uri, "embed")
    backend.connect()
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def storage_daemon() -> Iterator[Daemon]:
    """A libvirtd with its own /etc/libvirt, for pools and domains defined by tests."""
    require(daemons_available(), "start libvirtd")
    daemon = Daemon(private_config=True)
    daemon.start()
    yield daemon
    daemon.remove()


@pytest.fixture(scope="session")
def storage_check(storage_daemon: Daemon) -> Iterator[libvirt.virConnect]:
    """A plain libvirt connection to the daemon, for checking what virtui did."""
    conn = open_connection(storage_daemon.qemu_uri)
    yield conn
    conn.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test with real QEMU guests runs on one xdist worker: each worker would
    otherwise probe QEMU in its own demo root and boot its own spinning guest, and a
    spinning TCG guest takes a whole core from every other test."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents and (
            item.get_closest_marker("embed") or "embedded_demo" in getattr(item, "fixturenames", ())
        ):
            item.add_marker(pytest.mark.xdist_group("embed"))
