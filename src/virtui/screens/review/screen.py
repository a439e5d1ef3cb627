"""ReviewScreen: the review view with the keys that act on change requests: open,
comment, approve, merge (asking first, harder when the change reaches beyond the guest),
rebase, reject, withdraw, revert, edit or resolve in $EDITOR, export and import."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from textual.binding import Binding

from virtui.config.settings import write_private
from virtui.model.timeline import LogEntry, Severity
from virtui.review.desk import MergeResult
from virtui.review.model import ChangeRequest, waits_for_restart
from virtui.screens.confirm import Choice, ConfirmScreen
from virtui.screens.editor import edit_text
from virtui.screens.navigation import navigation_keys
from virtui.screens.prompt import PromptScreen
from virtui.screens.readonly import refused_read_only
from virtui.screens.review.view import ReviewView
from virtui.text import visible
from virtui.ui.calls import Failure
from virtui.ui.messages import TimelineNote


class ReviewScreen(ReviewView):
    """Keyboard-only review: move, comment, approve, merge."""

    HELP_TITLE = "Review desk"
    HELP_NOTE = (
        "Tab moves between the list and the diff; c on a diff line comments on it. "
        "e edits the proposal in $EDITOR on the live configuration (a conflict comes "
        "with <<<<<<< markers to resolve). "
        "Changes are drafted on the domains screen: e XML, v vCPUs, m memory, b disk."
    )

    BINDINGS = [
        Binding("o", "publish", "Open draft"),
        Binding("c", "comment", "Comment"),
        Binding("a", "approve", "Approve"),
        Binding("m", "merge", "Merge"),
        Binding("R", "rebase", "Rebase"),
        Binding("x", "reject", "Reject", show=False),
        Binding("w", "withdraw", "Withdraw"),  # w, v, i: other things on domains
        Binding("v", "revert", "Revert"),
        Binding("t", "toggle_layout", "Unified/side by side", show=False),
        Binding("right_square_bracket", "hunk(1)", "Next hunk", key_display="]", show=False),
        Binding("left_square_bracket", "hunk(-1)", "Previous hunk", key_display="[", show=False),
        Binding("f", "cycle_filter", "Filter", show=False),
        Binding("slash", "filter_text", "Filter by host/domain", show=False),
        Binding("e", "edit", "Edit / resolve", show=False),
        Binding("E", "export", "Export patch", show=False),
        Binding("i", "import_patch", "Import"),
        Binding("1,escape", "back", "Domains"),
        *navigation_keys("5"),
    ]

    # -- running ------------------------------------------------------------------------

    def _run(self, label: str, call: Callable[[], object], done: str = "") -> None:
        """Run one desk call on a thread; say how it went (also in the timeline), reload."""
        change = self.selected()

        def succeeded(result: object) -> None:
            message = done or label
            if isinstance(result, MergeResult):
                message = _merge_message(result)
            self.notify(message, timeout=8)
            self._note(change, message, Severity.INFO)
            self.reload()

        def failed(failure: Failure) -> None:
            self.notify(failure.message, severity="error", timeout=10)
            self._note(change, failure.message, Severity.ERROR)
            self.reload()

        self.calls(f"review:{label}", call, succeeded, failed)

    def _note(self, change: ChangeRequest | None, text: str, severity: Severity) -> None:
        host, domain = (change.host, change.domain_name) if change else ("", "")
        self.post_message(TimelineNote(LogEntry.now(host, domain, "review", text, severity)))

    def _with_change(self) -> ChangeRequest | None:
        change = self.selected()
        if change is None:
            self.notify("no change selected", severity="warning")
        return change

    def _writable(self, verb: str) -> bool:
        """False, and the user told why, on a read-only desk: before anything is asked."""
        if self.desk.readonly:
            refused_read_only(self, verb, "the review desk")
            return False
        return True

    # -- keys ---------------------------------------------------------------------------

    def action_publish(self) -> None:
        if not self._writable("open a change for review"):
            return
        if change := self._with_change():
            self._run(
                "open", lambda: self.desk.publish(change.id), f"#{change.id} is open for review"
            )

    def action_approve(self) -> None:
        if not self._writable("approve"):
            return
        if change := self._with_change():
            self._run("approve", lambda: self.desk.approve(change.id), f"#{change.id} approved")

    def action_rebase(self) -> None:
        if not self._writable("rebase"):
            return
        if change := self._with_change():
            self._run(
                "rebase",
                lambda: self.desk.rebase(change.id),
                f"#{change.id} rebased on the live configuration",
            )

    def action_withdraw(self) -> None:
        if not self._writable("withdraw"):
            return
        if change := self._with_change():
            self._run("withdraw", lambda: self.desk.withdraw(change.id), f"#{change.id} withdrawn")

    def action_revert(self) -> None:
        if not self._writable("draft a revert"):
            return
        if change := self._with_change():
            self._run(
                "revert", lambda: self.desk.revert(change.id), f"revert of #{change.id} drafted"
            )

    def action_comment(self) -> None:
        if not self._writable("comment"):
            return
        change = self._with_change()
        if change is None:
            return
        line, anchor = self._diff_line()
        where = f"line {line}: {anchor.strip()[:50]}" if line else "the whole change"

        def entered(text: str | None) -> None:
            if text:
                self._run(
                    "comment",
                    lambda: self.desk.comment(change.id, line, anchor, text),
                    "comment added",
                )

        self.app.push_screen(
            PromptScreen(
                f"Comment on #{change.id}", f"On {where}:", lambda t: "" if t else "write something"
            ),
            entered,
        )

    def action_reject(self) -> None:
        if not self._writable("reject"):
            return
        change = self._with_change()
        if change is None:
            return

        def entered(reason: str | None) -> None:
            if reason:
                self._run(
                    "reject", lambda: self.desk.reject(change.id, reason), f"#{change.id} rejected"
                )

        self.app.push_screen(
            PromptScreen(f"Reject #{change.id}", "Why?", lambda t: "" if t else "say why"), entered
        )

    def action_merge(self) -> None:
        if not self._writable("merge"):
            return
        change = self._with_change()
        if change is None:
            return

        def mergeable_warnings() -> list[str]:
            # Both may ask a desk service: off the UI thread.
            self.desk.check_mergeable(change)
            return self.desk.warnings(change)

        self.calls(
            f"review:warnings:{change.id}",
            mergeable_warnings,
            lambda warnings: self._confirm_merge(change, warnings),
            lambda f: self._failed(f.message),
        )

    def _confirm_merge(self, change: ChangeRequest, warnings: list[str]) -> None:
        self.warnings[change.id] = warnings
        targets = [
            ("⟳ " if waits_for_restart(line) else "✓ ") + visible(line) for line in change.summary
        ]

        def merge() -> None:
            self._run("merge", lambda: self.desk.merge(change.id, accepted=warnings))

        name = visible(change.domain_name)
        if warnings:
            # More than y: the change reaches beyond the guest. Type the domain's name.
            self.app.push_screen(
                PromptScreen(
                    f"Merge #{change.id} into {name} on {change.host}? It reaches beyond the guest",
                    "\n".join(f"⚠ {visible(w)}" for w in warnings)
                    + f"\nType the domain name ({name}) to merge anyway:",
                    lambda text: "" if text == name else f"type {name} to merge, Esc to cancel",
                ),
                lambda text: merge() if text == name else None,
            )
            return
        self.app.push_screen(
            ConfirmScreen(
                f"Merge #{change.id} into {name} on {change.host}?",
                targets,
                "The base is checked against the live configuration first; the proposal is "
                "validated and defined, what can go live is applied now (✓), the rest (⟳) "
                "waits for the next restart.",
                [Choice("merge", "Merge", "y")],
            ),
            lambda answer: merge() if answer else None,
        )

    def action_edit(self) -> None:
        """Edit the proposal in $EDITOR, carried onto the live configuration; a conflict
        comes with git-style markers to resolve."""
        if not self._writable("edit a change"):
            return
        change = self._with_change()
        if change is None:
            return

        self.calls(
            f"review:edit:{change.id}",
            lambda: self.desk.editable_text(change.id),
            lambda found: self._edit_in_editor(*found),
            lambda f: self.notify(f.message, severity="error"),
        )

    def _edit_in_editor(self, change: ChangeRequest, live_xml: str, text: str) -> None:
        edited = edit_text(self.app, text, change.domain_name)
        if edited is None:
            return
        if edited == text and "<<<<<<<" not in text:
            self.notify(f"#{change.id}: not changed")
            return
        self._run(
            "edit",
            lambda: self.desk.resolve(change.id, edited, live_xml),
            f"#{change.id}: proposal replaced (approvals of the old one no longer count)",
        )

    def action_export(self) -> None:
        if not self._writable("export a patch"):
            return
        change = self._with_change()
        if change is None:
            return
        default = str(Path.cwd() / f"virtui-{change.id}.patch")

        def check(path: str) -> str:
            full = os.path.expanduser(path)
            if os.path.exists(full):
                return f"{path} exists: not overwritten"
            if not os.path.isdir(os.path.dirname(os.path.abspath(full))):
                return f"{os.path.dirname(full)} does not exist"
            return ""

        def entered(path: str | None) -> None:
            if not path:
                return
            full = os.path.expanduser(path)

            def write() -> str:
                write_private(Path(full), self.desk.export_patch(change.id))
                return full

            self._run("export", write, f"#{change.id} written to {full}")

        self.app.push_screen(
            PromptScreen(f"Export #{change.id}", "Patch file:", check, default), entered
        )

    def action_import_patch(self) -> None:
        if not self._writable("import a patch"):
            return

        def check(path: str) -> str:
            return "" if os.path.isfile(os.path.expanduser(path)) else f"{path} is not a file"

        def entered(path: str | None) -> None:
            if path:
                full = os.path.expanduser(path)

                def read() -> ChangeRequest:
                    with open(full, encoding="utf-8") as file:
                        return self.desk.import_patch(file.read())

                self._run("import", read, f"{path} imported as a draft")

        self.app.push_screen(PromptScreen("Import a patch", "Patch file:", check), entered)


def _merge_message(result: MergeResult) -> str:
    change = result.change
    parts = [f"#{change.id} merged into {change.domain_name}"]
    if result.live:
        parts.append(f"live: {'; '.join(result.live)}")
    if result.pending_restart:
        parts.append(f"pending restart: {'; '.join(result.pending_restart)}")
    if len(result.normalised) > 2:
        changed = sum(1 for line in result.normalised[2:] if line[:1] in "+-")
        parts.append(f"libvirt normalised {changed} line(s)")
    return " · ".join(parts)
