"""Fixtures that boot real QEMU guests under libvirt's embedded driver."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from virtui.backends.libvirt.demo import DemoUnavailable, EmbeddedDemo, check_embedded_driver
from virtui.config import cache_dir


def require_embedded_driver() -> None:
    """Skip where QEMU cannot run; in CI (which installs it) that is a failure instead."""
    try:
        check_embedded_driver()
    except DemoUnavailable as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to run the embedded QEMU driver: {error}")
        pytest.skip(str(error))


@pytest.fixture(scope="session")
def embedded_demo() -> Iterator[EmbeddedDemo]:
    """The demo guests, booted once. libvirt allows one embed root per process, so every
    in-process embed test shares the demo's root (its QEMU probe cache is reused)."""
    require_embedded_driver()
    demo = EmbeddedDemo(cache_dir() / "demo-embed")
    demo.start(lambda message, step, steps: None)
    yield demo
    demo.stop()
