"""ReviewDesk: the life of a change request, from draft to merge (or not).

Blocking (it reads and defines domain configurations through each host's ConfigPort): call it
from worker threads. The TUI and ``virtui review`` both drive this one class.

What a merge promises, across processes sharing one store:
- every state change is a compare-and-swap in SQLite: a change is merged once;
- one merge per domain at a time: a lock row (owner, pid, machine, lease) is held from
  the drift check through define and read-back, so of two changes drafted on the same
  base one is applied and the other is refused as stale;
- a proposal edits only its own domain (its ``<name>`` and ``<uuid>`` are pinned);
- the report says what libvirt did, read back; a process killed mid-merge is settled
  from the live configuration when the desk next opens.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from virtui.ports.config import ConfigHosts
from virtui.review import danger, diff, patchfile
from virtui.review.model import ChangeRequest, State
from virtui.review.ops import PENDING_RESTART, Conflict, Op, PlanItem, RawXml, plan, propose
from virtui.review.store import LockHeld, ReviewStore, StateChanged, StoreError
from virtui.review.xmlsafe import XmlRefused, canonical, check_identity, parse_domain, sha256
from virtui.review.xmlsafe import validate as validate_schema
from virtui.text import error_text

_REVIEWABLE = (State.DRAFT, State.OPEN, State.APPROVED)
UNVERIFIED = "unverified-import"
SECRET_NOT_CARRIED = "secret-not-carried"
LOCK_WAIT_S = 60.0  # another process's merge of the same domain: wait this long for it


class ReviewError(Exception):
    """A refused step; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class ReviewRules:
    """From the config file's [review] table. ``problem``: why the rules could not be
    read; merging stays disabled until it is fixed (rules fail closed)."""

    required_approvals: int = 0
    forbid_self_approval: bool = False
    problem: str = ""

    @property
    def approvals_needed(self) -> int:
        """At least one other person's approval when self-approval is forbidden."""
        return max(self.required_approvals, 1 if self.forbid_self_approval else 0)


def local_user() -> str:
    """Who acts here: the OS account of this process @ this machine. Never from the
    environment (``USER=bob`` changes nothing)."""
    return f"{pwd.getpwuid(os.geteuid()).pw_name}@{socket.gethostname()}"


@dataclass(frozen=True, slots=True)
class MergeResult:
    """How a merge went: the parts applied live, those waiting for a restart, and what
    libvirt changed in the proposal when it stored it (redacted)."""

    change: ChangeRequest
    live: list[str]
    pending_restart: list[str]
    normalised: list[str]  # unified diff proposed → applied ([] when identical)


def _message(error: BaseException) -> str:
    return error_text(error)


class ReviewDesk:
    """Every step of a change request, each recorded in the store's history."""

    def __init__(
        self, store: ReviewStore, hosts: ConfigHosts, rules: ReviewRules, user: str = ""
    ) -> None:
        self.store = store
        self.hosts = hosts
        self.rules = rules
        self.user = user or local_user()

    def _get(self, change_id: int) -> ChangeRequest:
        try:
            change = self.store.get(change_id)
        except StoreError as error:
            raise ReviewError(str(error)) from error
        if change is None:
            raise ReviewError(f"there is no change #{change_id}")
        return change

    def changes(self) -> list[ChangeRequest]:
        """Every change, newest first (ReviewError when the store cannot be read)."""
        try:
            return [c for i in self.store.ids() if (c := self.store.get(i)) is not None]
        except StoreError as error:
            raise ReviewError(str(error)) from error

    def _record(self, step: str, write: Callable[[], object]) -> None:
        """Run a store write; its failures become one readable ReviewError."""
        try:
            write()
        except StateChanged as error:
            raise ReviewError(f"{error}: {step} not done; look again") from error
        except StoreError as error:
            raise ReviewError(f"{step}: {error}") from error

    # -- drafting -----------------------------------------------------------------------

    def _check_proposal(self, host: str, uuid: str, base_xml: str, proposed: str) -> None:
        """Refuse a proposal that edits another domain or names an unknown emulator."""
        try:
            check_identity(base_xml, proposed, uuid)
            if danger.emulator(proposed) != danger.emulator(base_xml):
                danger.check_emulator(
                    base_xml, proposed, self.hosts.config(host).host_facts().emulators
                )
        except (XmlRefused, danger.DangerRefused) as error:
            raise ReviewError(str(error)) from error

    def draft(
        self,
        host: str,
        uuid: str,
        title: str,
        ops: list[Op],
        description: str = "",
        flags: list[str] | None = None,
    ) -> ChangeRequest:
        """A new change request against the domain's current configuration."""
        config = self.hosts.config(host).read_config(uuid)
        try:
            proposed = propose(config.xml, ops)
            items = plan(config.xml, ops, config.active)
        except (XmlRefused, Conflict) as error:
            raise ReviewError(str(error)) from error
        if canonical(proposed) == canonical(config.xml):
            raise ReviewError("that changes nothing: no change request made")
        self._check_proposal(host, uuid, config.xml, proposed)
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
            uri=self.hosts.config(host).uri,
            flags=list(flags or []),
        )
        try:
            return self._get(self.store.create(change))
        except StoreError as error:
            raise ReviewError(str(error)) from error

    def publish(self, change_id: int) -> ChangeRequest:
        """Draft → open: others may now review it."""
        change = self._get(change_id)
        if change.state is not State.DRAFT:
            raise ReviewError(f"#{change_id} is {change.state.label}, not a draft")
        self._record(
            "open",
            lambda: self.store.set_state(
                change_id, State.OPEN, self.user, "opened", expect=(State.DRAFT,)
            ),
        )
        return self._get(change_id)

    # -- reviewing ----------------------------------------------------------------------

    def comment(self, change_id: int, line: int, anchor: str, text: str) -> ChangeRequest:
        """Comment on a diff line (0: on the whole change)."""
        if not text.strip():
            raise ReviewError("an empty comment says nothing")
        self._get(change_id)
        self._record(
            "comment", lambda: self.store.comment(change_id, line, anchor, self.user, text.strip())
        )
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
        needed = max(1, self.rules.approvals_needed)
        state = State.APPROVED if count >= needed else State.OPEN
        self._record("approve", lambda: self.store.approve(change, self.user, state))
        return self._get(change_id)

    def reject(self, change_id: int, reason: str) -> ChangeRequest:
        """Close a change as rejected (by a reviewer)."""
        if not reason.strip():
            raise ReviewError("say why it is rejected")
        return self._close(change_id, State.REJECTED, "rejected", reason)

    def withdraw(self, change_id: int) -> ChangeRequest:
        """Close a change as withdrawn (by its author)."""
        return self._close(change_id, State.WITHDRAWN, "withdrawn", "")

    def _close(self, change_id: int, state: State, kind: str, reason: str) -> ChangeRequest:
        change = self._get(change_id)
        if change.state.closed or change.state is State.MERGING:
            raise ReviewError(f"#{change_id} is {change.state.label} already")
        self._record(
            kind,
            lambda: self.store.set_state(
                change_id, state, self.user, kind, reason, expect=(change.state,)
            ),
        )
        return self._get(change_id)

    def warnings(self, change: ChangeRequest) -> list[str]:
        """What the change adds beyond the guest, and how it came in (reads the host's
        pools: blocking)."""
        found: list[str] = []
        if UNVERIFIED in change.flags:
            found.append(
                "imported patch not verified: its base is not the configuration it was "
                "written against, so Proposed-SHA256 could not be checked"
            )
        if SECRET_NOT_CARRIED in change.flags:
            found.append(
                "the patch changed a secret (a password) that exports never carry: "
                "this change keeps the live one; set the new one by hand"
            )
        try:
            pools = self.hosts.config(change.host).host_facts().pool_paths
        except Exception:
            pools = None
        try:
            found += danger.warnings(change.base_xml, change.proposed_xml, pools)
            for path, declared in danger.new_disk_formats(change.base_xml, change.proposed_xml):
                try:
                    actual = self.hosts.config(change.host).image_format(path)
                except Exception:
                    actual = None
                if actual and actual != declared:
                    found.append(
                        f"disk {path}: driver type {declared} but the image is {actual} "
                        f"(the guest would read and write it as {declared})"
                    )
        except XmlRefused as error:
            found.append(f"the proposal cannot be read: {error}")
        return found

    # -- drift --------------------------------------------------------------------------

    def check_stale(self, change_id: int) -> ChangeRequest:
        """Mark the change stale when the live configuration moved from its base."""
        change = self._get(change_id)
        if change.state not in _REVIEWABLE:
            return change
        live = self.hosts.config(change.host).read_config(change.domain_uuid)
        if sha256(live.xml) != change.base_hash:
            self._mark_stale(change)
        return self._get(change_id)

    def check_domain(self, host: str, uuid: str) -> list[int]:
        """Check every reviewable change of one domain (after a DEFINED event); the live
        configuration is read once, and not at all when no change targets the domain."""
        changes = [self._get(i) for i in self.store.ids(_REVIEWABLE)]
        ours = [c for c in changes if c.host == host and c.domain_uuid == uuid]
        if not ours:
            return []
        live_hash = sha256(self.hosts.config(host).read_config(uuid).xml)
        stale = [change for change in ours if change.base_hash != live_hash]
        for change in stale:
            self._mark_stale(change)
        return [change.id for change in stale]

    def _mark_stale(self, change: ChangeRequest) -> None:
        # Another process may have moved it first: what it did stands.
        with contextlib.suppress(StateChanged):
            self.store.set_state(
                change.id,
                State.STALE,
                self.user,
                "stale",
                "the live configuration changed",
                resume=change.state,
                expect=(change.state,),
            )

    def rebase(self, change_id: int) -> ChangeRequest:
        """Re-draft a change on the live configuration. Typed edits are replayed; an XML
        edit is carried over by a three-way merge (base, proposal, live). A draft stays a
        draft; anything else is open again. Approvals of the old version stop counting."""
        change = self._get(change_id)
        if change.state not in (State.STALE, State.CONFLICTED, *_REVIEWABLE):
            raise ReviewError(f"#{change_id} is {change.state.label}: nothing to rebase")
        live = self.hosts.config(change.host).read_config(change.domain_uuid)
        try:
            if any(isinstance(op, RawXml) for op in change.ops):
                proposed = diff.three_way(
                    canonical(change.base_xml), canonical(change.proposed_xml), canonical(live.xml)
                )
                # Lines merge cleanly into XML that may not be valid (two <description>s):
                # libvirt's schema decides, and an invalid result is a conflict to resolve.
                problems = validate_schema(proposed)
                if problems:
                    raise XmlRefused(f"merged, the XML is not valid: {'; '.join(problems)}")
                ops: list[Op] = [RawXml(proposed)]
            else:
                ops = change.ops
                proposed = propose(live.xml, ops, change.base_xml)
            items = plan(live.xml, ops, live.active)
            check_identity(live.xml, proposed, change.domain_uuid)
        except (Conflict, diff.MergeConflict, XmlRefused) as error:
            why = str(error)
            resume = self.store.resume_state(change_id) or change.state
            self._record(
                "conflict",
                lambda: self.store.set_state(
                    change_id,
                    State.CONFLICTED,
                    self.user,
                    "conflict",
                    why,
                    resume=resume,
                    expect=(change.state,),
                ),
            )
            message = f"#{change_id} conflicts with the live configuration: {why}"
            raise ReviewError(message) from error
        self._replace_proposal(
            change, live.xml, proposed, ops, items, "rebase", f"onto {sha256(live.xml)[:12]}"
        )
        return self._get(change_id)

    def editable_text(self, change_id: int) -> tuple[ChangeRequest, str, str]:
        """(change, live XML, text to edit): the proposal carried onto the live
        configuration, with conflict markers where both sides changed the same lines."""
        change = self._get(change_id)
        if change.state.closed or change.state is State.MERGING:
            raise ReviewError(f"#{change_id} is {change.state.label}: nothing to edit")
        live = self.hosts.config(change.host).read_config(change.domain_uuid)
        base, proposed = canonical(change.base_xml), canonical(change.proposed_xml)
        try:
            text = diff.three_way(base, proposed, canonical(live.xml))
        except diff.MergeConflict as conflict:
            text = conflict.text
        return change, live.xml, text

    def resolve(self, change_id: int, edited: str, live_xml: str) -> ChangeRequest:
        """Replace the proposal with ``edited``, drafted on ``live_xml`` (what the author
        saw when editing): the way out of a conflict. Approvals of the old version stop
        counting; a draft stays a draft, anything else is open again."""
        change = self._get(change_id)
        if any(marker in edited for marker in ("<<<<<<<", ">>>>>>>")):
            raise ReviewError("conflict markers are still in the XML: nothing changed")
        live = self.hosts.config(change.host).read_config(change.domain_uuid)
        if sha256(live.xml) != sha256(live_xml):
            raise ReviewError(
                f"#{change_id}: the live configuration changed while you edited; edit again"
            )
        try:
            items = plan(live.xml, [RawXml(edited)], live.active)
            check_identity(live.xml, edited, change.domain_uuid)
        except XmlRefused as error:
            raise ReviewError(f"#{change_id}: {error}") from error
        if canonical(edited) == canonical(live.xml):
            raise ReviewError("the edited XML is the live configuration: it changes nothing")
        self._check_proposal(change.host, change.domain_uuid, live.xml, edited)
        self._replace_proposal(
            change,
            live.xml,
            edited,
            [RawXml(edited)],
            items,
            "edit",
            "proposal edited on the live configuration",
        )
        return self._get(change_id)

    def _replace_proposal(
        self,
        change: ChangeRequest,
        live_xml: str,
        proposed: str,
        ops: list[Op],
        items: list[PlanItem],
        step: str,
        detail: str,
    ) -> None:
        """A new base (the live XML) and proposal; a draft stays a draft, anything else
        is open again (older approvals stop counting: they were of another version)."""
        was_draft = change.state is State.DRAFT or self.store.resume_state(change.id) is State.DRAFT
        self._record(
            step,
            lambda: self.store.replace_proposal(
                change,
                live_xml,
                proposed,
                ops,
                [item.text for item in items],
                State.DRAFT if was_draft else State.OPEN,
                self.user,
                detail,
            ),
        )

    # -- merging ------------------------------------------------------------------------

    def check_mergeable(self, change: ChangeRequest) -> None:
        """Raise ReviewError unless the rules allow merging ``change`` now."""
        if self.rules.problem:
            raise ReviewError(f"merging is disabled: {self.rules.problem}")
        if change.state not in (State.OPEN, State.APPROVED):
            hint = {
                State.DRAFT: ": open it first (o)",
                State.STALE: ": rebase it first (R)",
                State.CONFLICTED: ": rebase it and resolve the conflict",
            }.get(change.state, "")
            raise ReviewError(f"#{change.id} is {change.state.label}{hint}")
        others = [a for a in change.valid_approvals if a.user != change.author]
        counted = others if self.rules.forbid_self_approval else change.valid_approvals
        have, need = len(counted), self.rules.approvals_needed
        if have < need:
            whose = " from others" if self.rules.forbid_self_approval else ""
            raise ReviewError(f"#{change.id} has {have} of the {need} approvals{whose} it needs")

    def _check_valid(self, change: ChangeRequest) -> None:
        try:
            parse_domain(change.proposed_xml)
            problems = validate_schema(change.proposed_xml)
        except XmlRefused as error:
            problems = [str(error)]
        if problems:
            raise ReviewError(
                f"#{change.id} does not validate, nothing was applied: {'; '.join(problems)}"
            )
        self._check_proposal(change.host, change.domain_uuid, change.base_xml, change.proposed_xml)

    def _lock(self, change: ChangeRequest, wait: float) -> None:
        deadline = time.monotonic() + wait
        pause = 0.02
        while True:
            try:
                self.store.lock_domain(change.host, change.domain_uuid, change.id, self.user)
                return
            except LockHeld as error:
                if time.monotonic() >= deadline:
                    raise ReviewError(f"#{change.id} not merged: {error}") from error
            except StoreError as error:
                raise ReviewError(f"#{change.id} not merged: {error}") from error
            time.sleep(pause)  # another process's define is under way: it takes ms to s
            pause = min(pause * 2, 0.5)

    def merge(self, change_id: int) -> MergeResult:
        """Apply the change: refuse on drift or invalid XML, define with validation, apply
        what can go live, read back what libvirt stored."""
        change = self._get(change_id)
        self.check_mergeable(change)
        self._check_valid(change)
        self._lock(change, LOCK_WAIT_S)
        try:
            return self._merge_locked(change)
        finally:
            # If this fails, the lock of a dead process is taken over by the next merge.
            with contextlib.suppress(StoreError):
                self.store.unlock_domain(change.host, change.domain_uuid)

    def _merge_locked(self, change: ChangeRequest) -> MergeResult:
        change_id = change.id
        try:
            self.store.set_state(
                change_id,
                State.MERGING,
                self.user,
                "merging",
                resume=change.state,
                expect=(change.state,),
            )
        except StateChanged as error:
            now = self._get(change_id)
            raise ReviewError(
                f"#{change_id} is {now.state.label} now (another process got there first); "
                "nothing was applied"
            ) from error
        except StoreError as error:
            raise ReviewError(f"#{change_id} not merged: {error}") from error
        try:
            live = self.hosts.config(change.host).read_config(change.domain_uuid)
        except Exception as error:
            self._back(change, "merge failed", error_text(error))
            raise ReviewError(f"#{change_id}: {error_text(error)}; nothing was applied") from error
        if sha256(live.xml) != change.base_hash:
            self._back(
                change,
                "stale",
                "refused at merge: the live configuration changed since the change was drafted",
                State.STALE,
            )
            raise ReviewError(
                f"#{change_id} is stale: the live configuration changed since it was drafted "
                "(another merge or an edit outside virtui); nothing was applied (R rebases)"
            )
        try:
            self.hosts.config(change.host).define_config(change.proposed_xml)
        except Exception as error:
            self._back(change, "merge failed", error_text(error))
            raise ReviewError(
                f"#{change_id}: libvirt refused it, nothing changed: {error_text(error)}"
            ) from error
        live_done: list[str] = []
        pending: list[str] = []
        for item in plan(change.base_xml, change.ops, live.active):
            if item.live is None:
                pending.append(item.text)
                continue
            try:
                self.hosts.config(change.host).apply_live(change.domain_uuid, item.live)
                live_done.append(item.text)
            except Exception as error:
                pending.append(
                    f"{item.text} — not applied live ({error_text(error)}): {PENDING_RESTART}"
                )
        try:
            applied = self.hosts.config(change.host).read_config(change.domain_uuid).xml
        except Exception as error:
            raise ReviewError(
                f"#{change_id}: libvirt has the change (defined) but it could not be read back "
                f"({error_text(error)}); it is settled when the desk next opens"
            ) from error
        normalised = diff.shown_diff(change.proposed_xml, applied)
        outcome = [f"live: {t}" for t in live_done] + [f"pending: {t}" for t in pending]
        detail = f"{len(live_done)} live, {len(pending)} pending restart"
        try:
            self.store.merged(change_id, applied, outcome, self.user, detail)
        except StoreError as error:
            raise ReviewError(
                f"#{change_id}: libvirt has the change (defined), but the store could not "
                f"record it: {error}; it is settled when the desk next opens"
            ) from error
        return MergeResult(self._get(change_id), live_done, pending, normalised)

    def _back(
        self, change: ChangeRequest, kind: str, detail: str, state: State | None = None
    ) -> None:
        """Out of merging after nothing was applied (to ``state``, else where it was)."""
        # If this fails it stays merging: recovery settles it from the live configuration.
        with contextlib.suppress(StoreError):
            self.store.set_state(
                change.id,
                state or change.state,
                self.user,
                kind,
                detail,
                resume=change.state if state is State.STALE else None,
                expect=(State.MERGING,),
            )

    def recover(self) -> list[int]:
        """Settle changes left merging by a process that died, from the live XML: the
        proposal → merged; the base → back to where it was; anything else → stale."""
        settled = []
        for change_id in self.store.ids((State.MERGING,)):
            change = self._get(change_id)
            try:
                self.store.lock_domain(change.host, change.domain_uuid, change.id, self.user)
            except StoreError:
                continue  # its merge is still under way in another process
            try:
                live = self.hosts.config(change.host).read_config(change.domain_uuid)
                self._settle(change, live.xml)
                settled.append(change_id)
            except Exception:
                continue  # the host is not reachable now: try again later
            finally:
                with contextlib.suppress(StoreError):
                    self.store.unlock_domain(change.host, change.domain_uuid)
        return settled

    def _settle(self, change: ChangeRequest, live_xml: str) -> None:
        base, proposed, live = (
            canonical(change.base_xml),
            canonical(change.proposed_xml),
            canonical(live_xml),
        )
        back = self.store.resume_state(change.id) or State.OPEN
        if sha256(live_xml) == change.base_hash or live == base:
            self.store.set_state(
                change.id,
                back,
                self.user,
                "merge interrupted",
                "nothing was applied: the live configuration is the base",
                expect=(State.MERGING,),
            )
        elif live == proposed or diff.contains_change(base, proposed, live):
            self.store.merged(
                change.id,
                live_xml,
                ["interrupted after the define: live parts not applied (at next start)"],
                self.user,
                "merge interrupted after the define: the live configuration is the proposal",
                kind="merge recovered",
            )
        else:
            self.store.set_state(
                change.id,
                State.STALE,
                self.user,
                "merge interrupted",
                "the live configuration is neither the base nor the proposal: it changed "
                "outside this merge; rebase to see where it stands",
                resume=back,
                expect=(State.MERGING,),
            )

    # -- patches --------------------------------------------------------------------------

    def import_patch(self, text: str, host: str = "") -> ChangeRequest:
        """A new draft from a patch file, on the target domain's live configuration
        (``host`` overrides the host the patch names). A patch whose base is not the live
        configuration cannot be checked against its Proposed-SHA256: it is flagged
        unverified."""
        try:
            patch = patchfile.read(text)
            target = host or patch.host
            live = self.hosts.config(target).read_config(patch.domain_uuid)
            proposed, verified = patchfile.proposal(patch, live.xml)
        except patchfile.PatchError as error:
            raise ReviewError(str(error)) from error
        description = patch.description + f"\n\n(imported; written by {patch.author})"
        return self.draft(
            target,
            patch.domain_uuid,
            patch.title,
            [RawXml(proposed)],
            description,
            flags=([] if verified else [UNVERIFIED])
            + ([SECRET_NOT_CARRIED] if patchfile.changes_a_secret(patch) else []),
        )

    def export_patch(self, change_id: int) -> str:
        """The patch file text of a change (secrets redacted)."""
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
