"""What crosses the desk service's socket: JSON of plain values, change requests, merge
results and history versions, and back. One request or answer per line.

Nothing in an answer runs or names a program: the service sends data, the client builds
dataclasses from it with the fields it knows (an unknown field is an error, not code).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, fields
from typing import Any

from virtui.review.core import MergeResult, ReviewRules
from virtui.review.history import Version
from virtui.review.model import Approval, ChangeRequest, Comment, Event, State
from virtui.review.ops import ops_from_json, ops_to_json
from virtui.review.secrets import redact

MAX_LINE = 16 * 1024 * 1024  # one request or answer; a domain XML is kilobytes


class WireError(Exception):
    """A line that is not a request or answer of this protocol."""


def change_to_dict(
    change: ChangeRequest, veil: Callable[[str], str] | None = None
) -> dict[str, Any]:
    """A change request as JSON values. With ``veil`` (a keyed hash): as a member sees
    it, its XML with the secrets redacted and every hash of a text with secrets in
    replaced by ``veil(hash)`` (equal hashes stay equal, so approvals still match)."""
    data = {f.name: getattr(change, f.name) for f in fields(change)}
    data["state"] = change.state.name
    data["ops"] = json.loads(ops_to_json(change.ops))
    data["comments"] = [asdict(c) for c in change.comments]
    data["approvals"] = [asdict(a) for a in change.approvals]
    data["events"] = [asdict(e) for e in change.events]
    if veil is not None:
        for key in ("base_xml", "proposed_xml", "applied_xml"):
            data[key] = redact(data[key])
        data["ops"] = _redacted(data["ops"])
        data["base_hash"], data["proposed_hash"] = (
            veil(change.base_hash),
            veil(change.proposed_hash),
        )
        for approval in data["approvals"]:
            approval["base_hash"] = veil(approval["base_hash"])
            approval["proposed_hash"] = veil(approval["proposed_hash"])
    return data


def change_from_dict(data: dict[str, Any]) -> ChangeRequest:
    """A change request back from JSON values."""
    try:
        values = dict(data)
        values["state"] = State[values["state"]]
        values["ops"] = ops_from_json(json.dumps(values["ops"]))
        values["comments"] = [Comment(**c) for c in values["comments"]]
        values["approvals"] = [Approval(**a) for a in values["approvals"]]
        values["events"] = [Event(**e) for e in values["events"]]
        return ChangeRequest(**values)
    except (KeyError, TypeError, ValueError) as error:
        raise WireError(f"not a change request: {error}") from error


def _redacted(value: Any) -> Any:
    """Every text inside JSON values redacted (an operation's XML, a seed's files)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    return value


def result_to_dict(result: MergeResult, veil: Callable[[str], str] | None = None) -> dict[str, Any]:
    """A merge's report as JSON values (``veil``: see change_to_dict)."""
    return {
        "change": change_to_dict(result.change, veil),
        "live": result.live,
        "pending_restart": result.pending_restart,
        "normalised": result.normalised,
    }


def result_from_dict(data: dict[str, Any]) -> MergeResult:
    """A merge's report back."""
    try:
        return MergeResult(
            change_from_dict(data["change"]),
            list(data["live"]),
            list(data["pending_restart"]),
            list(data["normalised"]),
        )
    except (KeyError, TypeError) as error:
        raise WireError(f"not a merge result: {error}") from error


def version_from_dict(data: dict[str, Any]) -> Version:
    """One history version back."""
    try:
        return Version(**data)
    except TypeError as error:
        raise WireError(f"not a history version: {error}") from error


def rules_to_dict(rules: ReviewRules) -> dict[str, Any]:
    """The team's rules, as the service holds them."""
    return {
        "required_approvals": rules.required_approvals,
        "forbid_self_approval": rules.forbid_self_approval,
        "problem": rules.problem,
        "forbid": sorted(rules.forbid),
    }


def rules_from_dict(data: dict[str, Any]) -> ReviewRules:
    """The team's rules back (what the client shows; the service enforces them)."""
    try:
        return ReviewRules(
            int(data["required_approvals"]),
            bool(data["forbid_self_approval"]),
            str(data["problem"]),
            frozenset(data["forbid"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise WireError(f"not the desk's rules: {error}") from error


def encode(message: dict[str, Any]) -> bytes:
    """One line of the protocol."""
    return json.dumps(message, ensure_ascii=True, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    """A line back into a message (WireError when it is not one)."""
    if len(line) > MAX_LINE:
        raise WireError("a message longer than the desk accepts")
    try:
        message = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WireError(f"not a message of the desk: {error}") from error
    if not isinstance(message, dict):
        raise WireError("not a message of the desk")
    return message
