"""Attach the terminal to a domain's text console while the TUI is suspended.

Like ``virsh console``: raw terminal, everything typed goes to the guest, ``Ctrl+]``
detaches. Works on any console stream a backend hands out, so it needs no second
process (which could not share an embedded driver's root anyway).
"""

from __future__ import annotations

import contextlib
import os
import select
import termios
import threading
import tty

from virtui.ports.domains import ConsoleStream

ESCAPE = b"\x1d"  # Ctrl+]


def run_console(stream: ConsoleStream, title: str, in_fd: int = 0, out_fd: int = 1) -> str:
    """Pump bytes both ways until the user detaches or the console closes.

    Returns why it ended ("detached" or "console closed").
    """
    os.write(out_fd, f"Connected to {title}.\r\nEscape character is ^] (Ctrl+])\r\n".encode())
    closed = threading.Event()

    def pump_out() -> None:
        while True:
            data = stream.recv(4096)
            if not data:
                closed.set()
                return
            os.write(out_fd, data)

    saved = termios.tcgetattr(in_fd) if os.isatty(in_fd) else None
    reader = threading.Thread(target=pump_out, name="console-out", daemon=True)
    try:
        if saved is not None:
            tty.setraw(in_fd)
        reader.start()
        while not closed.is_set():
            ready, _, _ = select.select([in_fd], [], [], 0.2)
            if not ready:
                continue
            data = os.read(in_fd, 1024)
            if not data:
                return "input closed"
            if ESCAPE in data:
                before = data.split(ESCAPE, 1)[0]
                if before:
                    stream.send(before)
                return "detached"
            stream.send(data)
        return "console closed"
    finally:
        with contextlib.suppress(Exception):
            stream.close()
        if saved is not None:
            termios.tcsetattr(in_fd, termios.TCSADRAIN, saved)
        os.write(out_fd, b"\r\n")
