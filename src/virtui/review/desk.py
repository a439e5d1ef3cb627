"""ReviewDesk: the life of a change request, from draft to merge (or not).

Blocking (it reads and defines domain configurations through each host's DomainConfigPort): call it
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

import time

from virtui.backends.backups import BackupError
from virtui.model.newguest import NewVolume, format_size
from virtui.review import danger, patchfile, secrets
from virtui.review.core import (
    LOCK_WAIT_S,
    NEW_DOMAIN,
    REVIEWABLE,
    SECRET_NOT_CARRIED,
    UNVERIFIED,
    MergeResult,
    ReviewError,
    ReviewRules,
    local_user,
    new_domain_identity,
)
from virtui.review.history import HistoryError, Version, drift_message, object_path
from virtui.review.hostreach import domain_reach_kinds, network_reach, network_reach_kinds
from virtui.review.merging import Merging
from virtui.review.model import ChangeRequest, State
from virtui.review.newguest import CreateDomain
from virtui.review.ops import Conflict, Op, RawXml, plan, propose
from virtui.review.rebasing import Rebasing
from virtui.review.restore import locate
from virtui.review.store import StoreError
from virtui.review.xmlsafe import XmlRefused, canonical, sha256
from virtui.text import error_text

__all__ = [
    "LOCK_WAIT_S",
    "SECRET_NOT_CARRIED",
    "UNVERIFIED",
    "MergeResult",
    "ReviewDesk",
    "ReviewError",
    "ReviewRules",
    "local_user",
]


class ReviewDesk(Merging, Rebasing):
    """Every step of a change request, each recorded in the store's history."""

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
        """A new change request against the domain's (or network's, ``kind``) current
        configuration."""
        self._writable("draft a change")
        port = self._port(host, kind)
        config = port.read_config(uuid)
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
            uri=port.uri,
            flags=list(flags or []),
            kind=kind,
        )
        self._refuse_forbidden(change, "no change request made")
        try:
            return self._get(self.store.create(change))
        except StoreError as error:
            raise ReviewError(str(error)) from error

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
        """A change request that defines a new domain from ``xml``, creating
        ``volumes`` at merge (and starting it, when asked). Refused now when the XML
        does not validate, the name or UUID is taken, or a pool cannot hold a volume."""
        self._writable("draft a new guest")
        volumes = volumes or []
        name, uuid = new_domain_identity(xml)
        port = self.hosts.domain_config(host)
        try:
            named = port.domain_named(name)
        except Exception as error:
            raise ReviewError(f"{host}: {error_text(error)}") from error
        if named:
            raise ReviewError(f"{host} already has a domain named {name}")
        try:
            taken = port.read_config(uuid)
        except Exception:
            taken = None
        if taken is not None:
            raise ReviewError(f"{host} already has a domain with UUID {uuid} ({taken.name})")
        for volume in volumes:
            if volume.restore:  # checked here, and again (verified whole) at merge
                try:
                    locate(self.backups_root(), volume.restore)
                except BackupError as error:
                    raise ReviewError(f"{volume.name}: {error}") from error
        needed: dict[str, int] = {}
        for volume in volumes:
            needed[volume.pool] = needed.get(volume.pool, 0) + (
                volume.capacity if not volume.backing else 0
            )
        for pool, size in needed.items():
            try:
                _path, room = port.pool_room(pool)
            except Exception as error:
                raise ReviewError(f"pool {pool} on {host}: {error_text(error)}") from error
            if size > room:
                raise ReviewError(
                    f"pool {pool} on {host} has {format_size(room)} free: "
                    f"{format_size(size)} do not fit"
                )
        create = CreateDomain(xml, [volume.as_dict() for volume in volumes], start)
        change = ChangeRequest(
            id=0,
            title=title or f"{name}: new domain",
            description=description,
            author=self.user,
            created=time.time(),
            host=host,
            domain_uuid=uuid,
            domain_name=name,
            base_xml="",
            base_hash=sha256(""),
            proposed_xml=xml,
            proposed_hash=sha256(xml),
            ops=[create],
            summary=[item.text for item in create.plan(None, False)],
            uri=port.uri,
            kind=NEW_DOMAIN,
        )
        self._refuse_forbidden(change, "no change request made")
        try:
            return self._get(self.store.create(change))
        except StoreError as error:
            raise ReviewError(str(error)) from error

    def publish(self, change_id: int) -> ChangeRequest:
        """Draft → open: others may now review it."""
        self._writable("open a change for review")
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
        self._writable("comment")
        if not text.strip():
            raise ReviewError("an empty comment says nothing")
        self._get(change_id)
        self._record(
            "comment", lambda: self.store.comment(change_id, line, anchor, self.user, text.strip())
        )
        return self._get(change_id)

    def approve(self, change_id: int) -> ChangeRequest:
        """Approve this exact base and proposal."""
        self._writable("approve")
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
        self._writable("reject")
        if not reason.strip():
            raise ReviewError("say why it is rejected")
        return self._close(change_id, State.REJECTED, "rejected", reason)

    def withdraw(self, change_id: int) -> ChangeRequest:
        """Close a change as withdrawn (by its author)."""
        self._writable("withdraw")
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
            if change.kind == "network":
                return found + network_reach(change.base_xml, change.proposed_xml)
        except XmlRefused as error:
            return [*found, f"the proposal cannot be read: {error}"]
        pools, emulators = self._host_facts(change.host)
        try:
            # A new domain's base is empty: every element of it is checked.
            found += danger.warnings(change.base_xml, change.proposed_xml, pools, emulators)
            for path, declared in danger.new_disk_formats(change.base_xml, change.proposed_xml):
                try:
                    actual = self.hosts.domain_config(change.host).image_format(path)
                except Exception:
                    actual = None
                if actual and actual != declared:
                    found.append(
                        f"disk {path}: driver type {declared} but the image is {actual} "
                        f"(the guest would read and write it as {declared})"
                    )
            found += self._shared_disks(change)
        except XmlRefused as error:
            found.append(f"the proposal cannot be read: {error}")
        return found

    def _host_facts(self, host: str) -> tuple[tuple[str, ...] | None, frozenset[str] | None]:
        """The host's pool folders and emulators (None where it cannot say)."""
        try:
            facts = self.hosts.domain_config(host).host_facts()
        except Exception:
            return None, None
        return facts.pool_paths, facts.emulators

    def forbidden(self, change: ChangeRequest) -> list[str]:
        """What the change reaches of the kinds ``[review] forbid`` refuses, one line
        each with its kind (blocking: reads the host)."""
        forbid = self.rules.forbid
        if not forbid:
            return []
        try:
            if change.kind == "network":
                reach = network_reach_kinds(change.base_xml, change.proposed_xml)
            else:
                pools, emulators = self._host_facts(change.host)
                reach = domain_reach_kinds(change.base_xml, change.proposed_xml, pools, emulators)
        except XmlRefused as error:
            return [f"the proposal cannot be read: {error}"]
        lines = [f"{r.text} ({r.kind})" for r in reach if r.kind in forbid]
        if "shared-disk" in forbid and change.kind != "network":
            lines += [f"{line} (shared-disk)" for line in self._shared_disks(change)]
        return lines

    def _shared_disks(self, change: ChangeRequest) -> list[str]:
        """A disk the proposal adds that another domain has: two guests writing one
        image corrupt it."""
        paths = danger.new_writable_disks(change.base_xml, change.proposed_xml)
        if not paths:
            return []
        try:
            users = self.hosts.domain_config(change.host).disk_users(paths, change.domain_uuid)
        except Exception as error:
            return [f"whether another guest uses its disks could not be read: {error_text(error)}"]
        return [
            f"disk {user.path} is in use by the running guest {user.domain}: two guests "
            "writing one image corrupt it"
            if user.running
            else f"disk {user.path} is also a disk of {user.domain} (shut off): the two must "
            "never run at once"
            for user in users
        ]

    # -- drift --------------------------------------------------------------------------

    def check_stale(self, change_id: int) -> ChangeRequest:
        """Mark the change stale when the live configuration moved from its base."""
        change = self._get(change_id)
        if change.state not in REVIEWABLE:
            return change
        live = self.live_config(change)
        if sha256(live.xml) != change.base_hash:
            self._mark_stale(change)
        return self._get(change_id)

    def check_domain(self, host: str, uuid: str) -> list[int]:
        """Check every reviewable change of one domain (after a DEFINED event); the live
        configuration is read once, and not at all when no change targets the domain."""
        changes = [self._get(i) for i in self.store.ids(REVIEWABLE)]
        ours = [c for c in changes if c.host == host and c.domain_uuid == uuid]
        if not ours:
            return []
        live_hash = sha256(self._port(host, ours[0].kind).read_config(uuid).xml)
        stale = [change for change in ours if change.base_hash != live_hash]
        for change in stale:
            self._mark_stale(change)
        return [change.id for change in stale]

    def for_me(self) -> int:
        """How many requests wait for this user's review (the header's count)."""
        try:
            return sum(
                1
                for i in self.store.ids((State.OPEN,))
                if (c := self.store.get(i)) is not None and c.waits_for(self.user)
            )
        except StoreError as error:
            raise ReviewError(str(error)) from error

    def record_drift(self, host: str, uuid: str) -> str:
        """After a host reported a configuration change: when the history is kept and
        the live configuration differs from its last commit, commit it as made outside
        virtui. Returns the commit ("" when nothing was committed). A merge in flight
        (its lock held, here or in another process) commits its own result."""
        if self.history is None or self.store.merging_now(host, uuid):
            return ""
        config = self.hosts.domain_config(host).read_config(uuid)
        try:
            return self.history.commit(
                object_path(host, config.name),
                canonical(config.xml),
                drift_message(host, config.name, self.user, time.time()),
                self.committer,
            )
        except HistoryError as error:
            raise ReviewError(f"history of {config.name}: {error}") from error

    def versions(self, host: str, name: str) -> list[Version]:
        """The history of one domain's configuration, newest first ([] when none)."""
        if self.history is None:
            raise ReviewError("no history is kept: set [review] history in config.toml")
        try:
            return self.history.log(object_path(host, name))
        except HistoryError as error:
            raise ReviewError(str(error)) from error

    def version_diff(self, host: str, name: str, commit: str) -> str:
        """What one commit changed in a domain's configuration."""
        assert self.history is not None
        try:
            return self.history.diff(commit, object_path(host, name))
        except HistoryError as error:
            raise ReviewError(str(error)) from error

    def revert_to(self, host: str, uuid: str, commit: str) -> ChangeRequest:
        """A draft that brings the domain back to its configuration at ``commit`` (the
        history has no secrets: the live ones are kept where the lines match)."""
        self._writable("draft a revert")
        assert self.history is not None
        live = self.hosts.domain_config(host).read_config(uuid)
        try:
            past = self.history.version(commit, object_path(host, live.name))
            proposed = secrets.restore(past.rstrip("\n"), live.xml)
        except HistoryError as error:
            raise ReviewError(str(error)) from error
        except ValueError as error:
            raise ReviewError(f"cannot revert to {commit[:12]}: {error}") from error
        return self.draft(
            host,
            uuid,
            f"revert to {commit[:12]}",
            [RawXml(proposed)],
            f"Back to the configuration of commit {commit} in the history.",
        )

    # -- patches --------------------------------------------------------------------------

    def import_patch(self, text: str, host: str = "") -> ChangeRequest:
        """A new draft from a patch file, on the target domain's live configuration
        (``host`` overrides the host the patch names). A patch whose base is not the live
        configuration cannot be checked against its Proposed-SHA256: it is flagged
        unverified."""
        self._writable("import a patch")
        try:
            patch = patchfile.read(text)
            target = host or patch.host
            live = self._port(target, patch.kind).read_config(patch.domain_uuid)
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
            kind=patch.kind,
        )

    def export_patch(self, change_id: int) -> str:
        """The patch file text of a change (secrets redacted)."""
        self._writable("export a patch")
        return patchfile.export(self._get(change_id))

    def revert(self, change_id: int) -> ChangeRequest:
        """A new change request that puts a merged change's base back."""
        self._writable("draft a revert")
        change = self._get(change_id)
        if change.state is not State.MERGED:
            raise ReviewError(f"#{change_id} is {change.state.label}: only merged changes")
        return self.draft(
            change.host,
            change.domain_uuid,
            f"Revert #{change_id}: {change.title}",
            [RawXml(change.base_xml)],
            f"Puts back the configuration from before #{change_id}.",
            kind=change.kind,
        )
