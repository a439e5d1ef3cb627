"""State flows down: what the app announces, and the screens that listen.

A screen subscribes when it mounts and is forgotten when it goes; the app never asks
which screen is in front nor what type it has. Textual's own ``Signal`` does the same
but logs and swallows an exception raised by a subscriber, so a broken screen would
silently stop updating; here it raises, as any handler would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Literal, Protocol, TypeVar, cast
from weakref import WeakKeyDictionary

from textual.dom import DOMNode
from textual.widget import Widget

from virtui.model import CpuMode, LogEntry

T = TypeVar("T")
N = TypeVar("N", bound=Widget)


class Broadcast(Generic[T]):
    """One kind of news; each subscriber's callback runs at once, on the UI thread, while
    its node is attached (subscribe in ``on_mount``: a node is forgotten once removed)."""

    def __init__(self) -> None:
        # The callback takes the node: a bound method or closure kept here would keep
        # the node alive, key and all.
        self._listeners: WeakKeyDictionary[Widget, Callable[[Any, T], object]] = WeakKeyDictionary()

    def subscribe(self, node: N, callback: Callable[[N, T], object]) -> None:
        """Call ``callback(node, news)`` with each publication while ``node`` lives
        (``callback`` takes the node: a function such as ``LogsScreen.entry_added`` or
        ``lambda screen, _news: screen.refresh_view()``, not a bound method)."""
        self._listeners[node] = callback

    def __len__(self) -> int:
        """How many nodes listen (some may be gone since the last publication)."""
        return len(self._listeners)

    def publish(self, news: T) -> None:
        """Tell every live subscriber."""
        for node, callback in list(self._listeners.items()):
            if not node.is_attached:
                del self._listeners[node]  # removed for good
            # Not before its on_mount (it draws itself there) nor while the app closes and
            # takes the screens' children away before the screens themselves.
            elif node.is_mounted and node.is_running and node.app.is_running:
                callback(node, news)


class Broadcasts:
    """What the app announces: new figures (after each poll), a new timeline entry, a
    host's networks changed, the review desk changed, the migrations or backups changed."""

    def __init__(self) -> None:
        self.polled: Broadcast[None] = Broadcast()
        self.logged: Broadcast[LogEntry] = Broadcast()
        self.networks_changed: Broadcast[str] = Broadcast()
        self.desk_changed: Broadcast[None] = Broadcast()
        self.migrations_changed: Broadcast[None] = Broadcast()
        self.backups_changed: Broadcast[None] = Broadcast()


class SharedState(Protocol):
    """What every screen of virtui's app may read of it (reactives it may watch)."""

    broadcasts: Broadcasts
    cpu_mode: CpuMode
    delay: float
    review_for_you: int


def shared_state(node: DOMNode) -> SharedState | None:
    """The app's shared state, or None when ``node`` runs under another app (a test's
    for one dialog)."""
    app = node.app
    return (
        cast(SharedState, app) if isinstance(getattr(app, "broadcasts", None), Broadcasts) else None
    )


News = Literal[
    "polled", "logged", "networks_changed", "desk_changed", "migrations_changed", "backups_changed"
]


def subscribe(node: N, news: News, callback: Callable[[N, Any], object]) -> None:
    """From ``on_mount``: call ``callback(node, news)`` at each of the app's ``news``
    while ``node`` lives (nothing when it runs under another app)."""
    shared = shared_state(node)
    if shared is not None:
        broadcast: Broadcast[Any] = getattr(shared.broadcasts, news)
        broadcast.subscribe(node, callback)
