"""Building host sessions and the demo from settings: shared by the TUI and batch mode."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from virtui.backends import open_backend, unique_labels
from virtui.config.settings import cache_dir
from virtui.monitor.session import HostSession

if TYPE_CHECKING:
    from virtui.backends.libvirt.demo import Progress

DEMO_TEST_URI = "test:///default"


class RunningDemo(Protocol):
    """A started demo, as its users see it: something to stop at exit."""

    def stop(self) -> None:
        """Shut the demo guests down and release the embedded driver."""


class DemoStartError(Exception):
    """The embedded demo could not start; ``fallback_uris`` still gives the user data."""

    def __init__(self, message: str, fallback_uris: Sequence[str]) -> None:
        super().__init__(message)
        self.fallback_uris = tuple(fallback_uris)


def open_sessions(
    uris: Sequence[str],
    *,
    readonly: bool = False,
    names: Mapping[str, str] | None = None,
    refresh: Mapping[str, float] | None = None,
    tags: Mapping[str, tuple[str, ...]] | None = None,
) -> list[HostSession]:
    """One session per URI, named from ``names`` (the config) or else from the URI, all
    names unique. Nothing is connected yet."""
    names = names or {}
    labels = unique_labels(uris)
    taken: set[str] = set()
    sessions = []
    for uri, label in zip(uris, labels, strict=True):
        name = names.get(uri) or label
        while name in taken:
            name += "'"
        taken.add(name)
        sessions.append(
            HostSession(
                open_backend(uri, name, readonly=readonly),
                refresh=(refresh or {}).get(uri),
                tags=(tags or {}).get(uri, ()),
            )
        )
    return sessions


def start_demo(progress: Progress) -> tuple[RunningDemo, list[str]]:
    """Boot the embedded demo guests (blocking). Returns the demo and the URIs to watch:
    the embedded driver and a test:/// host. Raises DemoStartError with the test host as
    fallback when QEMU cannot run here."""
    # Here, not at the top: importing the sessions (and with them the TUI) must not
    # load libvirt; a backend does, when one is opened.
    from virtui.backends.libvirt.demo import DemoUnavailable, EmbeddedDemo

    demo = EmbeddedDemo(cache_dir() / "demo-embed")
    try:
        uri = demo.start(progress)
    except DemoUnavailable as error:
        raise DemoStartError(
            f"embedded QEMU demo unavailable: {error}; showing the test host only",
            [DEMO_TEST_URI],
        ) from error
    return demo, [uri, DEMO_TEST_URI]
