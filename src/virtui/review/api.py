"""Desk: what the TUI and ``virtui review`` ask of a review desk. A ReviewDesk (one's own
store, or today's shared files) and a DeskClient (a team's desk service) both are one;
every step is blocking (call from worker threads)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from virtui.model.config import DomainConfig
from virtui.model.newguest import NewVolume
from virtui.review.core import MergeResult, ReviewRules
from virtui.review.history import Version
from virtui.review.model import ChangeRequest
from virtui.review.ops import Op


class Desk(Protocol):
    """The steps of a change request, and what the screens show of the desk."""

    user: str
    rules: ReviewRules
    readonly: bool

    @property
    def shared(self) -> bool:
        """True for a team's desk."""

    @property
    def keeps_history(self) -> bool:
        """True when merges are committed to a history."""

    def data_version(self) -> int:
        """Moves whenever anyone changes the desk."""

    def changes(self) -> list[ChangeRequest]:
        """Every change, newest first."""

    def get(self, change_id: int) -> ChangeRequest:
        """One change."""

    def for_me(self) -> int:
        """Requests waiting for this user."""

    def draft(
        self,
        host: str,
        uuid: str,
        title: str,
        ops: list[Op],
        description: str = "",
        flags: list[str] | None = None,
        kind: str = "domain",
    ) -> ChangeRequest:
        """A new change request."""

    def draft_new(
        self,
        host: str,
        xml: str,
        volumes: list[NewVolume] | None = None,
        *,
        start: bool = False,
        title: str = "",
        description: str = "",
    ) -> ChangeRequest:
        """A request to define a new domain."""

    def publish(self, change_id: int) -> ChangeRequest:
        """Draft → open."""

    def comment(self, change_id: int, line: int, anchor: str, text: str) -> ChangeRequest:
        """A comment."""

    def approve(self, change_id: int) -> ChangeRequest:
        """An approval."""

    def reject(self, change_id: int, reason: str) -> ChangeRequest:
        """Rejected."""

    def withdraw(self, change_id: int) -> ChangeRequest:
        """Withdrawn."""

    def warnings(self, change: ChangeRequest) -> list[str]:
        """What it reaches beyond the guest."""

    def check_mergeable(self, change: ChangeRequest) -> None:
        """Raise unless the rules allow merging now."""

    def check_stale(self, change_id: int) -> ChangeRequest:
        """Stale when the live configuration moved."""

    def check_domain(self, host: str, uuid: str) -> list[int]:
        """Check one domain's requests."""

    def record_drift(self, host: str, uuid: str) -> str:
        """Commit a change made outside the desk."""

    def versions(self, host: str, name: str) -> list[Version]:
        """A domain's history."""

    def version_diff(self, host: str, name: str, commit: str) -> str:
        """One commit's change."""

    def revert_to(self, host: str, uuid: str, commit: str) -> ChangeRequest:
        """A draft back to a commit."""

    def import_patch(self, text: str, host: str = "") -> ChangeRequest:
        """A draft from a patch file."""

    def export_patch(self, change_id: int) -> str:
        """A patch file's text."""

    def revert(self, change_id: int) -> ChangeRequest:
        """A change putting a merged one's base back."""

    def rebase(self, change_id: int) -> ChangeRequest:
        """Re-drafted on the live configuration."""

    def editable_text(self, change_id: int) -> tuple[ChangeRequest, str, str]:
        """A conflict's text to resolve, and the live configuration."""

    def resolve(self, change_id: int, edited: str, live_xml: str) -> ChangeRequest:
        """A conflict resolved by hand."""

    def merge(self, change_id: int, accepted: Collection[str] = ()) -> MergeResult:
        """Applied to the host."""

    def recover(self) -> list[int]:
        """Merges a crash cut short, settled."""

    def read_config(self, host: str, uuid: str, kind: str = "domain") -> DomainConfig:
        """A live configuration to edit (a desk service's has its secrets redacted)."""

    def image_format(self, host: str, path: str) -> str | None:
        """A disk image's format."""

    def close(self) -> None:
        """Let go of the store or the link (at exit)."""
