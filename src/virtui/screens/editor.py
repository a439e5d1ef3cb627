"""Edit a text in the user's $VISUAL/$EDITOR while the TUI is suspended."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from typing import Any

from textual.app import SuspendNotSupported

from virtui.config.settings import private_dir, state_dir


def edit_text(app: Any, text: str, name: str) -> str | None:
    """The edited text, or None when the editor failed or could not run (the reason is
    notified). The file is 0600 in a 0700 directory (the XML holds secrets) and is
    removed afterwards."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    folder = private_dir(state_dir() / "edits")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:40]
    handle, path = tempfile.mkstemp(prefix=f"{safe}-", suffix=".xml", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        try:
            with app.suspend():
                done = subprocess.run([*shlex.split(editor), path], check=False)
        except SuspendNotSupported:
            app.notify("this terminal cannot be suspended for an editor", severity="error")
            return None
        except OSError as error:
            app.notify(f"cannot run {editor}: {error.strerror}", severity="error")
            return None
        if done.returncode != 0:
            app.notify(
                f"{editor} exited with {done.returncode}: nothing changed", severity="warning"
            )
            return None
        with open(path, encoding="utf-8") as file:
            return file.read()
    finally:
        os.unlink(path)
