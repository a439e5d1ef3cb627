"""Carrying a change onto the live configuration: rebase (a three-way merge of the
change's edit onto what libvirt holds now), and the $EDITOR round trip that resolves a
conflict."""

from __future__ import annotations

import dataclasses

from virtui.review import diff
from virtui.review.core import (
    NEW_DOMAIN,
    REVIEWABLE,
    DeskCore,
    ReviewError,
    new_domain_identity,
)
from virtui.review.model import ChangeRequest, State
from virtui.review.newguest import CreateDomain
from virtui.review.ops import Conflict, Op, PlanItem, RawXml, plan, propose
from virtui.review.xmlsafe import XmlRefused, canonical, check_identity, sha256
from virtui.review.xmlsafe import validate as validate_schema


class Rebasing(DeskCore):
    """The rebase steps of the desk."""

    def rebase(self, change_id: int) -> ChangeRequest:
        """Re-draft a change on the live configuration. Typed edits are replayed; an XML
        edit is carried over by a three-way merge (base, proposal, live). A draft stays a
        draft; anything else is open again. Approvals of the old version stop counting."""
        self._writable("rebase")
        change = self._get(change_id)
        if change.state not in (State.STALE, State.CONFLICTED, *REVIEWABLE):
            raise ReviewError(f"#{change_id} is {change.state.label}: nothing to rebase")
        if change.kind == NEW_DOMAIN:
            raise ReviewError(
                f"#{change_id} defines a new domain, and one now stands where it would go: "
                "withdraw it and draft another"
            )
        live = self.live_config(change)
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
        self._writable("edit a change")
        change = self._get(change_id)
        if change.state.closed or change.state is State.MERGING:
            raise ReviewError(f"#{change_id} is {change.state.label}: nothing to edit")
        if change.kind == NEW_DOMAIN:  # nothing stands on the host yet: the XML as it is
            return change, "", change.proposed_xml
        live = self.live_config(change)
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
        self._writable("edit a change")
        change = self._get(change_id)
        if any(marker in edited for marker in ("<<<<<<<", ">>>>>>>")):
            raise ReviewError("conflict markers are still in the XML: nothing changed")
        if change.kind == NEW_DOMAIN:
            return self._resolve_new(change, edited)
        live = self.live_config(change)
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

    def _resolve_new(self, change: ChangeRequest, edited: str) -> ChangeRequest:
        """A new domain's XML edited before it exists: checked as a draft is (schema,
        the rules' allow-list), with the same name and UUID, the same volumes and start."""
        name, uuid = new_domain_identity(edited)
        if (name, uuid) != (change.domain_name, change.domain_uuid.lower()):
            raise ReviewError(
                f"#{change.id}: the name and UUID stay {change.domain_name} and "
                f"{change.domain_uuid} (draft another guest for others): nothing changed"
            )
        if canonical(edited) == canonical(change.proposed_xml):
            raise ReviewError(f"#{change.id}: not changed")
        old = next(op for op in change.ops if isinstance(op, CreateDomain))
        create = CreateDomain(edited, old.volumes, old.start)
        self._replace_proposal(
            change, "", edited, [create], create.plan(None, False), "edit", "new domain edited"
        )
        return self._get(change.id)

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
        self._refuse_forbidden(
            dataclasses.replace(change, base_xml=live_xml, proposed_xml=proposed),
            f"{step} not done",
        )
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
