"""The first frame, drawn before the TUI's libraries load.

Loading Textual and libvirt takes about half a second; over SSH a blank terminal for
that long reads as a hang. So the header is drawn at once, in plain escape codes on the
alternate screen the TUI then takes over (and clears): draw the frame, then fill.
"""

from __future__ import annotations

import os
from typing import TextIO

LEAVE = "\x1b[?25h\x1b[?1049l"  # cursor shown, main screen back: if the TUI never starts


def draw_first_frame(out: TextIO, hosts: int) -> bool:
    """Write the header line to ``out`` if it is a terminal that can take it; returns
    whether it did."""
    if not out.isatty() or os.environ.get("TERM", "dumb") in ("dumb", ""):
        return False
    try:
        columns = os.get_terminal_size(out.fileno()).columns
    except OSError:
        return False
    what = "the default host" if hosts == 0 else "1 host" if hosts == 1 else f"{hosts} hosts"
    header = f" virtui │ connecting to {what}…"[:columns]
    # Alternate screen, cursor home, clear; the header in reverse video; the cursor hidden.
    out.write(f"\x1b[?1049h\x1b[H\x1b[2J\x1b[?25l\x1b[7m{header.ljust(columns)}\x1b[0m")
    out.flush()
    return True
