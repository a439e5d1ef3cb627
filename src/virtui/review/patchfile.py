"""Change requests as patch files, so they can travel by mail or git.

The format is mail-like headers, a blank line, the description, then the unified diff
of the canonical base and proposed XML, secrets redacted (the hashes are of the
redacted texts, so a short password cannot be guessed from them either). Importing
re-applies the diff to the target domain's live configuration, redacted the same way,
then puts back the live configuration's own secrets. When that configuration is still the
exported base, the result must hash to the exported proposal (a damaged file is refused);
otherwise the import is unverified and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from virtui.review.diff import PatchDoesNotApply, apply_unified, unified
from virtui.review.model import ChangeRequest
from virtui.review.secrets import REDACTED, redact, redact_lines, restore
from virtui.review.xmlsafe import canonical, sha256

MAX_PATCH_BYTES = 2 * 1024 * 1024


class PatchError(ValueError):
    """A patch file that cannot be imported; the message says why."""


@dataclass(frozen=True, slots=True)
class Patch:
    """A patch file read back."""

    title: str
    author: str
    host: str
    domain_uuid: str
    domain_name: str
    base_hash: str
    proposed_hash: str
    description: str
    diff: list[str]
    kind: str = "domain"  # what it configures: a domain, or a network ("Network:" header)


def export(change: ChangeRequest) -> str:
    """The patch file text of a change request."""
    base = canonical(change.base_xml)
    proposed = canonical(change.proposed_xml)
    headers = [
        f"Subject: [virtui #{change.id}] {change.title}",
        f"Author: {change.author}",
        f"Host: {change.host}",
        f"{change.kind.capitalize()}: {change.domain_name} {change.domain_uuid}",
        f"Base-SHA256: {sha256(redact(base))}",
        f"Proposed-SHA256: {sha256(redact(proposed))}",
    ]
    body = change.description.strip()
    # The diff of the real texts, each line redacted: a changed secret shows as a changed
    # line (so a reviewer sees it), but its value does not travel.
    diff = redact_lines(unified(base, proposed))
    return "\n".join([*headers, "", body, "", *diff]) + "\n"


def changes_a_secret(patch: Patch) -> bool:
    """True when the patch changed a secret whose new value was not exported."""
    removed = {line[1:] for line in patch.diff if line.startswith("-") and REDACTED in line}
    return any(
        line[1:] in removed
        for line in patch.diff
        if line.startswith("+") and not line.startswith("+++") and REDACTED in line
    )


def read(text: str) -> Patch:
    """Parse a patch file (checked: headers, size, a diff present)."""
    if len(text.encode("utf-8")) > MAX_PATCH_BYTES:
        raise PatchError("the file is larger than a domain change can be")
    head, blank, rest = text.partition("\n\n")
    if not blank:
        raise PatchError("not a virtui patch: no headers")
    headers: dict[str, str] = {}
    for line in head.splitlines():
        key, colon, value = line.partition(":")
        if not colon:
            raise PatchError(f"not a header line: {line!r}")
        headers[key.strip().lower()] = value.strip()
    kind = "network" if "network" in headers and "domain" not in headers else "domain"
    needed = ("subject", "author", "host", kind, "base-sha256", "proposed-sha256")
    missing = [name for name in needed if name not in headers]
    if missing:
        raise PatchError(f"not a virtui patch: no {', '.join(missing)} header")
    lines = rest.splitlines()
    start = next((n for n, line in enumerate(lines) if line == "--- base"), None)
    if start is None:
        raise PatchError("the patch has no diff (--- base)")
    name, _space, uuid = headers[kind].rpartition(" ")
    subject = headers["subject"]
    title = subject.split("] ", 1)[1] if subject.startswith("[virtui") else subject
    return Patch(
        title=title,
        author=headers["author"],
        host=headers["host"],
        domain_uuid=uuid,
        domain_name=name,
        base_hash=headers["base-sha256"],
        proposed_hash=headers["proposed-sha256"],
        description="\n".join(lines[:start]).strip(),
        diff=lines[start:],
        kind=kind,
    )


def proposal(patch: Patch, live_xml: str) -> tuple[str, bool]:
    """The proposed XML (the patch applied to the live configuration) and whether it was
    verified against the patch's hashes."""
    live = canonical(live_xml)
    base = redact(live)
    try:
        proposed = apply_unified(base, patch.diff)
    except PatchDoesNotApply as error:
        raise PatchError(f"the patch does not apply to the live configuration: {error}") from error
    verified = sha256(base) == patch.base_hash
    if verified and sha256(proposed) != patch.proposed_hash:
        raise PatchError("the patch is damaged: its result does not match Proposed-SHA256")
    try:
        return restore(proposed, live), verified
    except ValueError as error:
        raise PatchError(str(error)) from error
