"""Merging a change request: checked against the live configuration under a per-domain
lock, validated, defined, applied live where it can be, and read back; a merge a killed
process left half done is settled from the live configuration."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Collection

from virtui.backends.backups import BackupError
from virtui.model.newguest import NewVolume
from virtui.review import diff, xmlnodes
from virtui.review.core import (
    LOCK_WAIT_S,
    NEW_DOMAIN,
    DeskCore,
    MergeResult,
    ReviewError,
)
from virtui.review.history import HistoryError, merge_message, object_path
from virtui.review.model import ChangeRequest, State
from virtui.review.newguest import CreateDomain
from virtui.review.ops import PENDING_RESTART, plan
from virtui.review.restore import built_image
from virtui.review.seediso import seed_iso
from virtui.review.store import LockHeld, StateChanged, StoreError, merge_steps
from virtui.review.xmlsafe import XmlRefused, canonical, parse_config, sha256
from virtui.review.xmlsafe import validate as validate_schema
from virtui.text import error_text

# The steps of a merge's journal (store.step), written before each is taken.
VOLUME = "volume "
DEFINE = "define"
START = "start"
# How long a merge waits for the DEFINED event of its own define (it comes on libvirt's
# event thread just after the call returns; a few ms).
DEFINE_EVENT_WAIT_S = 2.0
# Events of two defines arrive one after the other, not always together: after the first,
# how long a merge waits for a second before it takes the first for its own.
DEFINE_SETTLE_S = 0.5


class Merging(DeskCore):
    """The merge steps of the desk."""

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
            parse_config(change.proposed_xml, "network" if change.kind == "network" else "domain")
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

    def warnings(self, change: ChangeRequest) -> list[str]:
        """What the change reaches beyond the guest (ReviewDesk's)."""
        raise NotImplementedError

    def merge(self, change_id: int, accepted: Collection[str] = ()) -> MergeResult:
        """Apply the change: refuse on drift, invalid XML or a host-safety flag not in
        ``accepted`` (what the person merging was shown and accepted), define with
        validation, apply what can go live, read back what libvirt stored."""
        self._writable("merge")
        change = self._get(change_id)
        self.check_mergeable(change)
        self._check_valid(change)
        self._refuse_forbidden(change, "nothing was applied")
        # Checked again here, whatever checked it at draft: the host's pools or emulators
        # may have changed, and a caller may never have asked.
        unaccepted = [line for line in self.warnings(change) if line not in accepted]
        if unaccepted:
            raise ReviewError(
                f"#{change_id} reaches beyond the guest ({'; '.join(unaccepted)}): "
                "merging it needs these accepted (--accept-warnings, or typing the "
                "domain's name); nothing was applied"
            )
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
        port = self._port_of(change)
        counter = getattr(port, "define_count", None)
        defines_before = counter(change.domain_uuid) if counter is not None else None
        try:
            live = port.read_config(change.domain_uuid)
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
        if change.kind == NEW_DOMAIN:
            return self._create_domain(change)
        try:
            self.store.step(change_id, self.user, DEFINE)
            self._port_of(change).define_config(change.proposed_xml)
        except Exception as error:
            self._back(change, "merge failed", error_text(error))
            raise ReviewError(
                f"#{change_id}: libvirt refused it, nothing changed: {error_text(error)}"
            ) from error
        live_done: list[str] = []
        pending: list[str] = []
        noted = self._defines_by_others(change, defines_before)
        for item in plan(change.base_xml, change.ops, live.active):
            if item.live is None:
                pending.append(item.text)
                continue
            try:
                self._port_of(change).apply_live(change.domain_uuid, item.live)
                live_done.append(item.text)
            except Exception as error:
                # "vcpu 2→1: live" was the plan; what happened is said instead.
                what = item.text.removesuffix(": live")
                pending.append(
                    f"{what}: {PENDING_RESTART} (the live change failed: {error_text(error)})"
                )
        return self._record_merge(change, live_done, pending, noted)

    def _defines_by_others(self, change: ChangeRequest, before: int | None) -> list[str]:
        """A define by someone else between this merge's read and its own define: the
        domain's DEFINED events counted (this merge's own is one of them)."""
        port = self._port_of(change)
        waiting = getattr(port, "await_define", None)
        if before is None or waiting is None:
            return []
        now = waiting(change.domain_uuid, before, DEFINE_EVENT_WAIT_S)
        if now == before + 1:
            # One event: this merge's own, or another's that came first with this one's
            # still on its way (a loaded machine): a moment more for a second.
            now = waiting(change.domain_uuid, before + 1, DEFINE_SETTLE_S)
        others = (now - before - 1) if now is not None else 0
        if others <= 0:
            return []
        return [
            f"another define of {change.domain_name} landed during this merge (between its "
            "read and its define): what that changed is replaced by this proposal; compare "
            "the domain's history"
        ]

    def _create_domain(self, change: ChangeRequest) -> MergeResult:
        """A new domain: its volumes created (a seed ISO written), then the define, each
        step journaled before it is taken; if libvirt refuses it, the volumes are taken
        back (from the journal: recovery does the same after a kill). Started after,
        when asked."""
        (create,) = [op for op in change.ops if isinstance(op, CreateDomain)]
        port = self.hosts.domain_config(change.host)
        try:
            for volume in create.new_volumes():
                # Checked so that taking back never deletes a volume this merge did not make.
                if port.volume_exists(volume.pool, volume.name):
                    raise ReviewError(
                        f"volume {volume.pool}/{volume.name} exists already on {change.host}"
                    )
                content = seed_iso(volume.seed) if volume.seed else None
                if volume.restore:
                    self._restore_volume(change, volume)
                    continue
                self.store.step(change.id, self.user, f"{VOLUME}{volume.pool}/{volume.name}")
                port.create_guest_volume(volume, content)
            self.store.step(change.id, self.user, DEFINE)
            port.define_config(change.proposed_xml)
        except Exception as error:
            if self._define_may_have_landed(change):
                raise ReviewError(
                    f"#{change.id}: the define did not answer ({error_text(error)}): it may "
                    "have reached libvirt, so nothing is taken back; it stays merging until "
                    "the host answers, then the desk adopts or rolls it back"
                ) from error
            said, kept = self._take_back(change)
            if kept:  # the host did not answer: recovery finishes when it does
                raise ReviewError(
                    f"#{change.id}: not created ({error_text(error)}); {said}: it stays "
                    "merging until the host answers, then the desk takes them back"
                ) from error
            self._back(change, "merge failed", f"{error_text(error)}; {said}")
            raise ReviewError(f"#{change.id}: not created ({error_text(error)}); {said}") from error
        done = [item.text for item in plan("", change.ops, False)]
        if create.start:
            try:
                self.store.step(change.id, self.user, START)
                port.start_domain(change.domain_uuid)
            except Exception as error:
                done = [t for t in done if not t.startswith("start")]
                done.append(f"defined, but it did not start: {error_text(error)}")
        return self._record_merge(change, done, [])

    def _restore_volume(self, change: ChangeRequest, volume: NewVolume) -> None:
        """A volume built from a backup's chain: found under this desk's backups only,
        every link verified again, converted whole, then written into the new volume."""
        try:
            with built_image(self.backups_root(), volume.restore) as image:
                self.store.step(change.id, self.user, f"{VOLUME}{volume.pool}/{volume.name}")
                self.hosts.domain_config(change.host).create_guest_volume(volume, None, image)
        except BackupError as error:
            raise ReviewError(f"{volume.name}: {error}") from error

    def _define_may_have_landed(self, change: ChangeRequest) -> bool:
        """After a failed step: True when the define was begun and the host cannot say
        that the domain is absent (it did not answer, or the domain is there)."""
        if DEFINE not in merge_steps(self._get(change.id)):
            return False
        try:
            return bool(self.hosts.domain_config(change.host).domain_named(change.domain_name))
        except Exception:
            return True

    def _take_back(self, change: ChangeRequest) -> tuple[str, list[str]]:
        """Delete the volumes the journal says this merge set out to make; what to say
        of it, and those that could not be deleted."""
        port = self.hosts.domain_config(change.host)
        removed: list[str] = []
        absent: list[str] = []
        kept: list[str] = []
        for step in merge_steps(self._get(change.id)):
            if not step.startswith(VOLUME):
                continue
            where = step.removeprefix(VOLUME)
            pool, _slash, name = where.partition("/")
            try:
                (removed if port.remove_volume(pool, name) else absent).append(where)
            except Exception as error:
                kept.append(f"{where} ({error_text(error)})")
        parts = []
        if removed:
            parts.append(f"removed volume {', '.join(removed)}")
        if absent:
            parts.append(f"{', '.join(absent)} was never made")
        if kept:
            parts.append(f"could not remove {', '.join(kept)}")
        return ("; ".join(parts) or "no volume was made"), kept

    def _record_merge(
        self,
        change: ChangeRequest,
        live_done: list[str],
        pending: list[str],
        noted: Collection[str] = (),
    ) -> MergeResult:
        change_id = change.id
        try:
            applied = self.live_config(change).xml
        except Exception as error:
            raise ReviewError(
                f"#{change_id}: libvirt has the change (defined) but it could not be read back "
                f"({error_text(error)}); it is settled when the desk next opens"
            ) from error
        normalised = diff.shown_diff(change.proposed_xml, applied)
        word = "done" if change.kind == NEW_DOMAIN else "live"
        outcome = [f"{word}: {t}" for t in live_done] + [f"pending: {t}" for t in pending]
        outcome += [f"warning: {t}" for t in noted]
        # Still under the domain's lock: a drift check elsewhere waits for this commit.
        outcome += self._commit_merge(change, applied)
        detail = f"{len(live_done)} live, {len(pending)} pending restart"
        if change.kind == "network":
            detail = f"{len(live_done)} live, {len(pending)} at next network restart"
        try:
            self.store.merged(change_id, applied, outcome, self.user, detail)
        except StoreError as error:
            raise ReviewError(
                f"#{change_id}: libvirt has the change (defined), but the store could not "
                f"record it: {error}; it is settled when the desk next opens"
            ) from error
        return MergeResult(self._get(change_id), live_done, pending, normalised)

    def _commit_merge(self, change: ChangeRequest, applied: str) -> list[str]:
        """Commit what libvirt now holds to the history; what to add to the outcome."""
        if self.history is None:
            return []
        try:
            commit = self.history.commit(
                object_path(
                    change.host,
                    change.domain_name,
                    "domain" if change.kind == NEW_DOMAIN else change.kind,
                ),
                canonical(applied),
                merge_message(change, self.user),
                self.committer,
            )
        except HistoryError as error:
            return [f"history: not recorded ({error})"]
        return [f"history: commit {commit[:12]}"] if commit else []

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
        """Settle changes left merging by a process that died (or a host that went away
        mid-merge), from the journal and the live configuration: each step rolled back
        or adopted, and the change's history says which."""
        settled = []
        for change_id in self.store.ids((State.MERGING,)):
            change = self._get(change_id)
            try:
                self.store.lock_domain(change.host, change.domain_uuid, change.id, self.user)
            except StoreError:
                continue  # its merge is still under way in another process
            try:
                if change.kind == NEW_DOMAIN:
                    done = self._settle_new(change)
                else:
                    done = self._settle(change, self.live_config(change).xml)
                if done:
                    settled.append(change_id)
            except Exception:
                continue  # the host is not reachable now: try again later
            finally:
                with contextlib.suppress(StoreError):
                    self.store.unlock_domain(change.host, change.domain_uuid)
        return settled

    def _settle(self, change: ChangeRequest, live_xml: str) -> bool:
        base, proposed, live = (
            canonical(change.base_xml),
            canonical(change.proposed_xml),
            canonical(live_xml),
        )
        back = self.store.resume_state(change.id) or State.OPEN
        began = DEFINE in merge_steps(change)
        if sha256(live_xml) == change.base_hash or live == base:
            reached = (
                "the define did not reach libvirt" if began else "it stopped before the define"
            )
            self.store.set_state(
                change.id,
                back,
                self.user,
                "merge interrupted",
                f"nothing was applied ({reached}): the live configuration is the base",
                expect=(State.MERGING,),
            )
        elif live == proposed or xmlnodes.holds(base, proposed, live):
            beside = "" if live == proposed else "; other changes beside it were made outside"
            self.store.merged(
                change.id,
                live_xml,
                ["interrupted after the define: live parts not applied (at next start)"],
                self.user,
                "adopted: the define reached libvirt, the live configuration has every "
                f"part of the proposal{beside}",
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
        return True

    def _settle_new(self, change: ChangeRequest) -> bool:
        """A new domain's merge cut short: the domain there (its UUID) → adopted with
        the volumes made for it; not there → the volumes taken back (True when settled)."""
        port = self.hosts.domain_config(change.host)
        steps = merge_steps(change)
        made = [s.removeprefix(VOLUME) for s in steps if s.startswith(VOLUME)]
        uuid = port.domain_named(change.domain_name)  # raises when the host cannot say
        if uuid.lower() == change.domain_uuid.lower():
            live = port.read_config(uuid)
            parts = [f"adopted volume {where}" for where in made] + ["adopted: defined"]
            if START in steps:
                parts.append("started" if live.active else "not started (the start was cut)")
            self.store.merged(
                change.id,
                live.xml,
                parts,
                self.user,
                "the define reached libvirt before the interruption: " + ", ".join(parts),
                kind="merge recovered",
            )
            return True
        said, kept = self._take_back(change)
        if kept:
            return False  # tried again at the next opening
        back = self.store.resume_state(change.id) or State.OPEN
        self.store.set_state(
            change.id,
            back,
            self.user,
            "merge interrupted",
            f"rolled back: the domain was never defined; {said}",
            expect=(State.MERGING,),
        )
        return True
