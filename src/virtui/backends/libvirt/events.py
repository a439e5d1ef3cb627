"""libvirt's domain events, in words and with a severity, for the timeline."""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable
from typing import Any

import libvirt

from virtui.model.timeline import Severity

Emit = Callable[[libvirt.virDomain | libvirt.virNetwork, str, str, Severity], None]
"""Receives (domain or network, kind, detail, severity) on libvirt's event-loop thread."""

_EVENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("defined", ("added", "updated", "renamed", "from snapshot")),
    ("undefined", ("removed", "renamed")),
    ("started", ("booted", "migrated", "restored", "from snapshot", "woken up")),
    (
        "suspended",
        (
            "paused",
            "migrated",
            "I/O error",
            "watchdog",
            "restored",
            "from snapshot",
            "api error",
            "post-copy",
            "post-copy failed",
        ),
    ),
    ("resumed", ("unpaused", "migrated", "from snapshot", "post-copy")),
    (
        "stopped",
        ("shutdown", "destroyed", "crashed", "migrated", "saved", "failed", "from snapshot"),
    ),
    ("shutdown", ("finished", "guest request", "host request")),
    ("pmsuspended", ("memory", "disk")),
    ("crashed", ("panicked", "crashloaded")),
)
_TROUBLED_PAUSE = ("I/O error", "watchdog", "api error", "post-copy failed")
_WATCHDOG = ("none", "pause", "reset", "poweroff", "shutdown", "debug", "inject-nmi")
_IO_ACTIONS = ("none", "pause", "report")
_BLOCK_JOB_TYPES = ("unknown", "pull", "copy", "commit", "active commit", "backup")
_BLOCK_JOB_STATUS = ("completed", "failed", "cancelled", "ready")
_AGENT_STATES = ("", "connected", "disconnected")
_AGENT_REASONS = ("", "domain started", "channel event")
_METADATA = ("description", "title", "element")


def lifecycle_words(event: int, detail: int) -> tuple[str, str]:
    """(kind, detail) for a VIR_DOMAIN_EVENT_* number and its detail number."""
    if not 0 <= event < len(_EVENTS):
        return f"event {event}", str(detail)
    kind, details = _EVENTS[event]
    return kind, details[detail] if 0 <= detail < len(details) else str(detail)


def lifecycle_event(event: int, detail: int) -> tuple[str, str, Severity]:
    """(kind, detail, severity) of a lifecycle event; a QEMU that died reads "crashed"."""
    kind, words = lifecycle_words(event, detail)
    if kind == "stopped" and words in ("crashed", "failed"):
        return "crashed", f"stopped unexpectedly ({words}): the QEMU process ended", Severity.ERROR
    if kind == "crashed":
        return kind, words, Severity.ERROR
    if kind == "suspended" and words in _TROUBLED_PAUSE:
        return kind, words, Severity.WARNING
    return kind, words, Severity.INFO


def _word(words: tuple[str, ...], number: int) -> str:
    return words[number] if 0 <= number < len(words) else str(number)


def register_domain_events(conn: libvirt.virConnect, emit: Emit) -> list[int]:
    """Register every domain event the timeline shows; returns the callback ids.

    A driver that lacks one event type simply does not get that callback.
    """

    def lifecycle(_c: Any, dom: libvirt.virDomain, event: int, detail: int, _o: Any) -> None:
        emit(dom, *lifecycle_event(event, detail))

    def reboot(_c: Any, dom: libvirt.virDomain, _o: Any) -> None:
        emit(dom, "reboot", "the guest rebooted", Severity.INFO)

    def watchdog(_c: Any, dom: libvirt.virDomain, action: int, _o: Any) -> None:
        emit(dom, "watchdog", f"watchdog fired, action: {_word(_WATCHDOG, action)}", Severity.ERROR)

    def io_error(
        _c: Any, dom: libvirt.virDomain, path: str, alias: str, action: int, reason: str, _o: Any
    ) -> None:
        detail = f"{alias or path}: {reason or 'I/O error'}, action: {_word(_IO_ACTIONS, action)}"
        emit(dom, "io-error", detail, Severity.ERROR)

    def block_job(
        _c: Any, dom: libvirt.virDomain, disk: str, job: int, status: int, _o: Any
    ) -> None:
        state = _word(_BLOCK_JOB_STATUS, status)
        severity = Severity.ERROR if state == "failed" else Severity.INFO
        emit(dom, "block-job", f"{_word(_BLOCK_JOB_TYPES, job)} on {disk}: {state}", severity)

    def device_added(_c: Any, dom: libvirt.virDomain, alias: str, _o: Any) -> None:
        emit(dom, "device-added", alias, Severity.INFO)

    def device_removed(_c: Any, dom: libvirt.virDomain, alias: str, _o: Any) -> None:
        emit(dom, "device-removed", alias, Severity.INFO)

    def removal_failed(_c: Any, dom: libvirt.virDomain, alias: str, _o: Any) -> None:
        emit(dom, "device-removed", f"{alias}: removal failed", Severity.ERROR)

    def metadata(_c: Any, dom: libvirt.virDomain, kind: int, uri: str | None, _o: Any) -> None:
        what = _word(_METADATA, kind) + (f" {uri}" if uri else "")
        emit(dom, "metadata", f"{what} changed", Severity.INFO)

    def agent(_c: Any, dom: libvirt.virDomain, state: int, reason: int, _o: Any) -> None:
        words = _word(_AGENT_STATES, state)
        why = _word(_AGENT_REASONS, reason)
        emit(dom, "agent", f"guest agent {words}" + (f" ({why})" if why else ""), Severity.INFO)

    def migration(_c: Any, dom: libvirt.virDomain, iteration: int, _o: Any) -> None:
        emit(dom, "migration", f"memory copy iteration {iteration}", Severity.INFO)

    def job_completed(_c: Any, dom: libvirt.virDomain, params: dict[str, Any], _o: Any) -> None:
        emit(dom, "job", f"job completed ({len(params)} statistics)", Severity.INFO)

    handlers: list[tuple[int, Callable[..., None]]] = [
        (libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, lifecycle),
        (libvirt.VIR_DOMAIN_EVENT_ID_REBOOT, reboot),
        (libvirt.VIR_DOMAIN_EVENT_ID_WATCHDOG, watchdog),
        (libvirt.VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON, io_error),
        (libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2, block_job),
        (libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, device_added),
        (libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, device_removed),
        (libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED, removal_failed),
        (libvirt.VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, metadata),
        (libvirt.VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE, agent),
        (libvirt.VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION, migration),
        (libvirt.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, job_completed),
    ]
    ids: list[int] = []
    for event_id, callback in handlers:
        with contextlib.suppress(libvirt.libvirtError):
            ids.append(conn.domainEventRegisterAny(None, event_id, callback, None))
    return ids


_NETWORK_EVENTS = ("defined", "undefined", "started", "stopped")


def network_event_words(event: int) -> str:
    """The kind of a VIR_NETWORK_EVENT_* lifecycle event: ``network started`` …"""
    return f"network {_word(_NETWORK_EVENTS, event)}"


def register_network_events(conn: libvirt.virConnect, emit: Emit) -> list[int]:
    """Register the network lifecycle event (a driver without networks has none)."""

    def lifecycle(_c: Any, network: libvirt.virNetwork, event: int, _detail: int, _o: Any) -> None:
        severity = Severity.WARNING if event == 3 else Severity.INFO
        emit(network, network_event_words(event), f"network {network.name()}", severity)

    with contextlib.suppress(libvirt.libvirtError):
        return [
            conn.networkEventRegisterAny(
                None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, lifecycle, None
            )
        ]
    return []


class _Fanout:
    """One set of libvirt registrations on a connection, shared by every subscriber.

    libvirt refuses a second registration of the same event type on one connection
    ("event callback already tracked"), and an embedded root's connection is shared by
    every backend on it; so the callbacks are registered once and fanned out.
    """

    def __init__(self, conn: libvirt.virConnect) -> None:
        self.conn = conn  # held, so the id() it is filed under stays this connection's
        self.emits: dict[int, Emit] = {}
        self.ids = register_domain_events(conn, self.emit)
        self.network_ids = register_network_events(conn, self.emit)

    def emit(
        self,
        dom: libvirt.virDomain | libvirt.virNetwork,
        kind: str,
        detail: str,
        severity: Severity,
    ) -> None:
        for emit in list(self.emits.values()):
            emit(dom, kind, detail, severity)


_fanouts: dict[int, _Fanout] = {}
_fanout_lock = threading.Lock()
_tokens = itertools.count(1)


def subscribe(conn: libvirt.virConnect, emit: Emit) -> int:
    """Deliver ``conn``'s domain events to ``emit`` until ``unsubscribe``; returns a token."""
    with _fanout_lock:
        fanout = _fanouts.get(id(conn))
        if fanout is None:
            fanout = _fanouts[id(conn)] = _Fanout(conn)
        token = next(_tokens)
        fanout.emits[token] = emit
        return token


def unsubscribe(conn: libvirt.virConnect, token: int, *, deregister: bool = True) -> None:
    """Stop delivering to the subscriber; the last one out deregisters from libvirt —
    unless ``deregister`` is False: the connection is about to be closed, which frees
    its callbacks (a deregistration is a call to the host: on a frozen one it would
    wait, and beside a call in flight it would be a second thread inside the client)."""
    with _fanout_lock:
        fanout = _fanouts.get(id(conn))
        if fanout is None:
            return
        fanout.emits.pop(token, None)
        if fanout.emits:
            return
        del _fanouts[id(conn)]
    if not deregister:
        return
    for callback_id in fanout.ids:
        with contextlib.suppress(libvirt.libvirtError):  # a dead connection frees them
            conn.domainEventDeregisterAny(callback_id)
    for callback_id in fanout.network_ids:
        with contextlib.suppress(libvirt.libvirtError):
            conn.networkEventDeregisterAny(callback_id)
