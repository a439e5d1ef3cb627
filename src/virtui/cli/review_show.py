"""What ``virtui review show`` prints: a change for a person (redacted diff, warnings)
or for a script (``--json``)."""

from __future__ import annotations

from typing import Any

from virtui.review.api import Desk
from virtui.review.diff import shown_diff
from virtui.review.model import ChangeRequest
from virtui.text import visible, visible_lines


def as_json(desk: Desk, change: ChangeRequest, warnings: list[str]) -> dict[str, Any]:
    return {
        "id": change.id,
        "state": change.state.label,
        "host": change.host,
        "kind": change.kind,
        "domain": change.domain_name,
        "domain_uuid": change.domain_uuid,
        "title": change.title,
        "description": change.description,
        "author": change.author,
        "approvals": [a.user for a in change.valid_approvals],
        "approvals_needed": desk.rules.approvals_needed,
        "warnings": warnings,
        "summary": change.summary,
        "outcome": change.outcome,
        "flags": change.flags,
        "base_sha256": change.base_hash,
        "proposed_sha256": change.proposed_hash,
        "comments": [{"author": c.author, "line": c.line, "text": c.text} for c in change.comments],
        "history": [
            {"at": e.created, "user": e.user, "kind": e.kind, "detail": e.detail}
            for e in change.events
        ],
        "diff": shown_diff(change.base_xml, change.proposed_xml),
    }


def print_change(desk: Desk, change: ChangeRequest, warnings: list[str]) -> None:
    print(
        f"#{change.id} {visible(change.where)}  "
        f"{change.state.label}  {len(change.valid_approvals)}/"
        f"{desk.rules.approvals_needed} approvals"
    )
    print(f"{visible(change.title)} — by {visible(change.author)}")
    if change.description:
        print(visible_lines(change.description))
    for warning in warnings:
        print(f"warning: {visible(warning)}")
    for line in change.summary + change.outcome:
        print(f"  {visible(line)}")
    for comment in change.comments:
        print(f"  comment by {visible(comment.author)}: {visible(comment.text)}")
    for line in shown_diff(change.base_xml, change.proposed_xml):
        print(visible(line))
