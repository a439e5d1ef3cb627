"""Shared fixtures: isolated XDG dirs, test-driver nodes, app factories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.nodes import NETWORKS, SMALL_FLEET, STORAGE_POOLS, write_node


@pytest.fixture(autouse=True, scope="session")
def _isolated_xdg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep tests out of the user's config, state and cache (the demo cache aside)."""
    base = tmp_path_factory.mktemp("xdg")
    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    patch.setenv("XDG_STATE_HOME", str(base / "state"))
    yield
    patch.undo()


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
