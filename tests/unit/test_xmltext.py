"""virtui.xmltext escapes exactly as xml.sax.saxutils does (which it replaces at start)."""

from __future__ import annotations

import subprocess
import sys
from xml.sax.saxutils import escape as sax_escape
from xml.sax.saxutils import quoteattr as sax_quoteattr

import pytest

from virtui.xmltext import escape, quoteattr

SAMPLES = ["plain", "a&b<c>d", 'say "hi"', "it's", "both ' and \"", "tab\tnew\nline\r", ""]


@pytest.mark.parametrize("text", SAMPLES)
def test_same_as_saxutils(text: str) -> None:
    assert escape(text) == sax_escape(text)
    assert quoteattr(text) == sax_quoteattr(text)


# What a start loads: the command line, the app and the backend of every host.
AT_START = "virtui.cli.main, virtui.tui.app, virtui.backends.libvirt.backend"


def test_the_app_loads_neither_the_network_stack_nor_the_iso_writer_at_start() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys, {AT_START}; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "'urllib.request'" not in loaded and "'http.client'" not in loaded
    assert "'pycdlib'" not in loaded
    assert "'lxml.etree'" not in loaded  # 5 MiB, for editing and reviewing only
