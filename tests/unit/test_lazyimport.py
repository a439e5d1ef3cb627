"""Modules imported on first use: the program sees the same module, later."""

from __future__ import annotations

import subprocess
import sys


def test_the_module_is_imported_on_first_use_and_behaves_as_itself() -> None:
    script = (
        "import sys\n"
        "from virtui.lazyimport import LazyModule\n"
        "lazy = LazyModule('colorsys')\n"
        "print('colorsys' in sys.modules, repr(lazy))\n"
        "print(lazy.rgb_to_hsv(1.0, 0.0, 0.0), 'colorsys' in sys.modules, repr(lazy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == [
        "False <lazy module 'colorsys', not imported yet>",
        "(0.0, 1.0, 1.0) True <lazy module 'colorsys', imported>",
    ]


def test_a_configuration_still_parses_safely_through_the_lazy_lxml() -> None:
    from virtui.review.xmlsafe import XmlRefused, parse_domain

    root = parse_domain("<domain type='kvm'><name>web01</name></domain>")
    assert root.findtext("name") == "web01"
    try:
        parse_domain("<!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><domain>&x;</domain>")
    except XmlRefused:
        pass
    else:
        raise AssertionError("an external entity was accepted")
