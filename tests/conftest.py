"""Shared fixtures: isolated XDG dirs, test-driver nodes, app factories."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.nodes import NETWORKS, SMALL_FLEET, STORAGE_POOLS, write_node

INTEGRATION = Path(__file__).parent / "integration"


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache() -> Iterator[None]:
    """Keep tests out of the person's cache: a demo root left there by a real run must
    not change what a test sees. One per session (the embedded demo's root is shared by
    every test of a worker) and short: QEMU's monitor socket paths under it must stay
    within a Unix socket's 108 bytes."""
    base = Path(tempfile.mkdtemp(prefix="vt-xdg-", dir="/tmp"))
    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_CACHE_HOME", str(base))
    yield
    patch.undo()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(autouse=True)
def _isolated_config(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test gets a config and state of its own: a host one test saved (``:connect``
    keeps it for the next start) must not join the next test's hosts."""
    base = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(base / "state"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Integration tests (real daemons, guests, browsers, terminals) are the slow lane:
    ``pytest -m "not slow"`` runs the unit, Pilot and snapshot tests alone."""
    for item in items:
        if INTEGRATION in item.path.parents:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def fleet_uri(tmp_path: Path) -> str:
    """A test:/// URI for a 4-CPU node with five domains (running, paused, shut off)."""
    return f"test://{write_node(tmp_path / 'fleet.xml', SMALL_FLEET)}"


@pytest.fixture
def storage_uri(tmp_path: Path) -> str:
    """A test:/// URI for SMALL_FLEET with two pools; web01 uses images/web01.qcow2."""
    return f"test://{write_node(tmp_path / 'storage.xml', SMALL_FLEET, pools=STORAGE_POOLS)}"


@pytest.fixture
def network_uri(tmp_path: Path) -> str:
    """SMALL_FLEET with two networks: default (NAT, web01's NIC) and backend (isolated)."""
    return f"test://{write_node(tmp_path / 'networks.xml', SMALL_FLEET, networks=NETWORKS)}"
