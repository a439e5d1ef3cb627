"""The migration port: moving a host's domains to another host."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from virtui.model.migration import (
    MigrationJob,
    MigrationOptions,
    MigrationOutcome,
    MigrationSource,
    Precheck,
)


class CancelFlag(Protocol):
    """Set by the UI to stop a migration (a ``threading.Event``)."""

    def is_set(self) -> bool:
        """True once the user cancelled."""


class MigrationPort(Protocol):
    """One host as the source or the target of a migration. Blocking: call from a
    worker."""

    @property
    def name(self) -> str:
        """The host's name in virtui."""

    def migration_source(self, uuid: str) -> MigrationSource:
        """The facts of a domain that a target is checked against."""

    def migration_checks(
        self, source: MigrationSource, options: MigrationOptions
    ) -> list[Precheck]:
        """This host's checks as the target of ``source``; nothing changes."""

    def migrate(
        self,
        uuid: str,
        target: MigrationPort,
        options: MigrationOptions,
        on_progress: Callable[[MigrationJob], None],
        cancelled: CancelFlag,
        postcopy_now: CancelFlag | None = None,
    ) -> MigrationOutcome:
        """Move the domain to ``target``, reporting the job every 0.5 s (a set
        ``postcopy_now`` switches it to post-copy); the outcome says where the guest
        is afterwards."""
