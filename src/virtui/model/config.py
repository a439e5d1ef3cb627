"""A domain's persistent configuration, and the changes that can be made to it live."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DomainConfig:
    """The inactive, secure XML of a domain (the base a change is drafted on)."""

    xml: str
    active: bool
    name: str


@dataclass(frozen=True, slots=True)
class LiveChange:
    """One change applied to a running domain without a restart.

    kind: ``vcpus`` (number), ``memory`` (number, KiB), ``attach`` or ``detach`` (xml).
    """

    kind: str
    number: int = 0
    xml: str = ""


@dataclass(frozen=True, slots=True)
class HostFacts:
    """What the review desk checks a proposal against (None: the host could not say).

    emulators: the emulator binaries the host's capabilities offer; pool_paths: the
    target directories of its storage pools.
    """

    emulators: frozenset[str] | None
    pool_paths: tuple[str, ...] | None
