"""ReviewDesk: the life of a change request, from draft to merge (or not).

Blocking (it reads and defines domain configurations through a ConfigPort): call it
from worker threads.
"""

from __future__ import annotations

import getpass
import socket
import time
from dataclasses import dataclass
from typing import Protocol

from virtui.model.config import DomainConfig, LiveChange
from virtui.review import diff, patchfile
from virtui.review.model import ChangeRequest, State
from virtui.review.ops import Conflict, Op, RawXml, plan, propose
from virtui.review.store import ReviewStore
from virtui.review.xmlsafe import XmlRefused, canonical, parse_domain, sha256, validate

_REVIEWABLE = (State.DRAFT, State.OPEN, State.APPROVED)


class ReviewError(Exception):
    """A refused step; the message says why and what to do."""


class ConfigPort(Protocol):
    """The libvirt side of the desk (bound by the app to the hosts' backends)."""

    def read_config(self, host: str, uuid: str) -> DomainConfig: ...
    def define(self, host: str, xml: str) -> str: ...
    def apply_live(self, host: str, uuid: str, change: LiveChange) -> None: ...


@dataclass(frozen=True, slots=True)
class ReviewRules:
    """From the config file's [review] table."""

    required_approvals: int = 0
    forbid_self_approval: bool = False


def local_user() -> str:
    """Who acts here: ``user@host`` (bookkeeping, not authentication)."""
    return f"{getpass.getuser()}@{socket.gethostname()}"


@dataclass(frozen=True, slots=True)
class MergeResult:
    """How a merge went: the parts applied live, those waiting for a restart, and what
    libvirt changed in the proposal when it stored it."""

    change: ChangeRequest
    live: list[str]
    pending_restart: list[str]
    normalised: list[str]  # unified diff proposed → applied ([] when identical)


class ReviewDesk:
    """Every step of a change request, each recorded in the store's history."""

    def __init__(
        self, store: ReviewStore, port: ConfigPort, rules: ReviewRules, user: str = ""
    ) -> None:
        self.store = store
        self.port = port
        self.rules = rules
        self.user = user or local_user()

    def _get(self, change_id: int) -> ChangeRequest:
        change = self.store.get(change_id)
        if change is None:
            raise ReviewError(f"there is no change #{change_id}")
        return change

    # -- drafting -----------------------------------------------------------------------

    def draft(
        self, host: str, uuid: str, title: str, ops: list[Op], description: str = ""
    ) -> ChangeRequest:
        """A new change request against the domain's current configuration."""
        config = self.port.read_config(host, uuid)
        try:
            proposed = propose(config.xml, ops)
            items = plan(config.xml, ops, config.active)
        except (XmlRefused, Conflict) as error:
            raise ReviewError(str(error)) from error
        if canonical(proposed) == canonical(config.xml):
            raise ReviewError("that changes nothing: no change request made")
        change = ChangeRequest(
            id=0,
            title=title,
            description=description,
            author=self.user,
            created=time.time(),
            host=host,
            domain_uuid=uuid,
            domain_name=config.name,
            base_xml=config.xml,
            base_hash=sha256(config.xml),
            proposed_xml=proposed,
            proposed_hash=sha256(proposed),
            ops=ops,
            summary=[item.text for item in items],
        )
        return self._get(self.store.create(change))

    def publish(self, change_id: int) -> ChangeRequest:
        """Draft → open: others may now review it."""
        change = self._get(change_id)
        if change.state is not State.DRAFT:
            raise ReviewError(f"#{change_id} is {change.state.label}, not a draft")
        self.store.set_state(change_id, State.OPEN, self.user, "opened")
        return self._get(change_id)

    # -- reviewing ----------------------------------------------------------------------

    def comment(self, change_id: int, line: int, anchor: str, text: str) -> ChangeRequest:
        """Comment on a diff line (0: on the whole change)."""
        if not text.strip():
            raise ReviewError("an empty comment says nothing")
        self._get(change_id)
        self.store.comment(change_id, line, anchor, self.user, text.strip())
        return self._get(change_id)

    def approve(self, change_id: int) -> ChangeRequest:
        """Approve this exact base and proposal."""
        change = self._get(change_id)
        if change.state not in (State.OPEN, State.APPROVED):
            raise ReviewError(f"#{change_id} is {change.state.label}: only open changes")
        if self.rules.forbid_self_approval and change.author == self.user:
            raise ReviewError("you wrote this change, and the rules forbid approving one's own")
        if any(a.user == self.user for a in change.valid_approvals):
            raise ReviewError("you approved this version already")
        count = len(change.valid_approvals) + 1
        state = State.APPROVED if count >= max(1, self.rules.required_approvals) else State.OPEN
        self.store.approve(change, self.user, state)
        return self._get(change_id)

    def reject(self, change_id: int, reason: str) -> ChangeRequest:
        """Close a change as rejected (by a reviewer)."""
        return self._close(change_id, State.REJECTED, "rejected", reason)

    def withdraw(self, change_id: int) -> ChangeRequest:
        """Close a change as withdrawn (by its author)."""
        return self._close(change_id, State.WITHDRAWN, "withdrawn", "")

    def _close(self, change_id: int, state: State, kind: str, reason: str) -> ChangeRequest:
        change = self._get(change_id)
        if change.state.closed or change.state is State.MERGING:
            raise ReviewError(f"#{change_id} is {change.state.label} already")
        self.store.set_state(change_id, state, self.user, kind, reason)
        return self._get(change_id)

    # -- drift --------------------------------------------------------------------------

    def check_stale(self, change_id: int) -> ChangeRequest:
        """Mark the change stale when the live configuration moved from its base."""
        change = self._get(change_id)
        if change.state not in _REVIEWABLE:
            return change
        live = self.port.read_config(change.host, change.domain_uuid)
        if sha256(live.xml) != change.base_hash:
            self._mark_stale(change_id)
        return self._get(change_id)

    def check_domain(self, host: str, uuid: str) -> list[int]:
        """Check every reviewable change of one domain (after a DEFINED event); the live
        configuration is read once, and not at all when no change targets the domain."""
        changes = [self._get(i) for i in self.store.ids(_REVIEWABLE)]
        ours = [c for c in changes if c.host == host and c.domain_uuid == uuid]
        if not ours:
            return []
        live_hash = sha256(self.port.read_config(host, uuid).xml)
        stale = [change.id for change in ours if change.base_hash != live_hash]
        for change_id in stale:
            self._mark_stale(change_id)
        return stale

    def _mark_stale(self, change_id: int) -> None:
        self.store.set_state(
            change_id, State.STALE, self.user, "stale", "the live configuration changed"
        )

    def rebase(self, change_id: int) -> ChangeRequest:
        """Re-draft a stale change on the live configuration. Typed edits are replayed;
        an XML edit is re-applied as a patch. Approvals of the old version stop counting."""
        change = self._get(change_id)
        if change.state not in (State.STALE, State.CONFLICTED, *_REVIEWABLE):
            raise ReviewError(f"#{change_id} is {change.state.label}: nothing to rebase")
        live = self.port.read_config(change.host, change.domain_uuid)
        try:
            if any(isinstance(op, RawXml) for op in change.ops):
                patch = diff.change_diff(change.base_xml, change.proposed_xml)
                proposed = diff.apply_unified(canonical(live.xml), patch)
                ops: list[Op] = [RawXml(proposed)]
            else:
                ops = change.ops
                proposed = propose(live.xml, ops, change.base_xml)
            items = plan(live.xml, ops, live.active)
        except (Conflict, diff.PatchDoesNotApply, XmlRefused) as error:
            self.store.set_state(change_id, State.CONFLICTED, self.user, "conflict", str(error))
            raise ReviewError(
                f"#{change_id} conflicts with the live configuration: {error}"
            ) from error
        self.store.replace_proposal(
            change_id,
            live.xml,
            sha256(live.xml),
            proposed,
            sha256(proposed),
            ops,
            [item.text for item in items],
            self.user,
            f"onto {sha256(live.xml)[:12]}",
        )
        return self._get(change_id)

    # -- merging ------------------------------------------------------------------------

    def check_mergeable(self, change: ChangeRequest) -> None:
        """Raise ReviewError unless the rules allow merging ``change`` now."""
        if change.state not in (State.OPEN, State.APPROVED):
            hint = {
                State.DRAFT: ": open it first (o)",
                State.STALE: ": rebase it first (R)",
                State.CONFLICTED: ": rebase it and resolve the conflict",
            }.get(change.state, "")
            raise ReviewError(f"#{change.id} is {change.state.label}{hint}")
        have, need = len(change.valid_approvals), self.rules.required_approvals
        if have < need:
            raise ReviewError(f"#{change.id} has {have} of the {need} approvals it needs")

    def merge(self, change_id: int) -> MergeResult:
        """Apply the change: refuse on drift or invalid XML, define with validation, apply
        what can go live, read back what libvirt stored."""
        change = self._get(change_id)
        self.check_mergeable(change)
        live = self.port.read_config(change.host, change.domain_uuid)
        if sha256(live.xml) != change.base_hash:
            self.store.set_state(
                change_id,
                State.STALE,
                self.user,
                "stale",
                "refused at merge: the live configuration changed since the change was drafted",
            )
            raise ReviewError(
                f"#{change_id}: the live configuration changed since it was drafted; "
                "nothing was applied (rebase it with R)"
            )
        try:
            parse_domain(change.proposed_xml)
            problems = validate(change.proposed_xml)
        except XmlRefused as error:
            problems = [str(error)]
        if problems:
            self.store.set_state(
                change_id, change.state, self.user, "merge refused", "; ".join(problems)
            )
            raise ReviewError(
                f"#{change_id} does not validate, nothing was applied: {'; '.join(problems)}"
            )
        self.store.set_state(change_id, State.MERGING, self.user, "merging", resume=change.state)
        try:
            self.port.define(change.host, change.proposed_xml)
        except Exception as error:
            message = str(getattr(error, "message", error))
            self.store.set_state(change_id, change.state, self.user, "merge failed", message)
            raise ReviewError(
                f"#{change_id}: libvirt refused it, nothing changed: {message}"
            ) from error
        live_done: list[str] = []
        pending: list[str] = []
        for item in plan(change.base_xml, change.ops, live.active):
            if item.live is None:
                pending.append(item.text)
                continue
            try:
                self.port.apply_live(change.host, change.domain_uuid, item.live)
                live_done.append(item.text)
            except Exception as error:
                reason = getattr(error, "message", error)
                pending.append(f"{item.text} — not applied live ({reason}): pending restart")
        applied = self.port.read_config(change.host, change.domain_uuid).xml
        normalised = diff.change_diff(change.proposed_xml, applied)
        outcome = [f"live: {t}" for t in live_done] + [f"pending: {t}" for t in pending]
        detail = f"{len(live_done)} live, {len(pending)} pending restart"
        self.store.merged(change_id, applied, outcome, self.user, detail)
        return MergeResult(self._get(change_id), live_done, pending, normalised)

    def recover(self) -> list[int]:
        """Settle changes left merging by a process that died: merged if the live
        configuration moved off the base, else back to where they were."""
        settled = []
        for change_id in self.store.ids((State.MERGING,)):
            change = self._get(change_id)
            try:
                live = self.port.read_config(change.host, change.domain_uuid)
            except Exception:
                continue  # the host is not reachable now: try again later
            if sha256(live.xml) == change.base_hash:
                back = self.store.resume_state(change_id) or State.OPEN
                self.store.set_state(
                    change_id, back, self.user, "merge interrupted", "nothing was applied"
                )
            else:
                self.store.merged(
                    change_id,
                    live.xml,
                    ["interrupted: defined, live parts not applied"],
                    self.user,
                    "merge interrupted after the define",
                )
            settled.append(change_id)
        return settled

    def import_patch(self, text: str, host: str = "") -> ChangeRequest:
        """A new draft from a patch file, on the target domain's live configuration
        (``host`` overrides the host the patch names)."""
        try:
            patch = patchfile.read(text)
            target = host or patch.host
            live = self.port.read_config(target, patch.domain_uuid)
            proposed = patchfile.proposal(patch, live.xml)
        except patchfile.PatchError as error:
            raise ReviewError(str(error)) from error
        description = patch.description + f"\n\n(imported; written by {patch.author})"
        return self.draft(target, patch.domain_uuid, patch.title, [RawXml(proposed)], description)

    def export_patch(self, change_id: int) -> str:
        """The patch file text of a change."""
        return patchfile.export(self._get(change_id))

    def revert(self, change_id: int) -> ChangeRequest:
        """A new change request that puts a merged change's base back."""
        change = self._get(change_id)
        if change.state is not State.MERGED:
            raise ReviewError(f"#{change_id} is {change.state.label}: only merged changes")
        return self.draft(
            change.host,
            change.domain_uuid,
            f"Revert #{change_id}: {change.title}",
            [RawXml(change.base_xml)],
            f"Puts back the configuration from before #{change_id}.",
        )
