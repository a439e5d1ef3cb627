"""Documentation that is generated must match what it describes."""

from __future__ import annotations

from pathlib import Path

from virtui.tui.keymap import render_keymap

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_keymap_doc_matches_the_bindings() -> None:
    assert (DOCS / "keymap.md").read_text(encoding="utf-8") == render_keymap(), (
        "docs/keymap.md is stale: run `python -m virtui.tui.keymap > docs/keymap.md`"
    )
