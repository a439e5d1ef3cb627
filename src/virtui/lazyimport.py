"""Modules imported when first used rather than at start.

lxml is 5 MiB resident once imported, and only what edits, checks or reviews a
configuration needs it; watching hosts never does. A module that uses it writes::

    if TYPE_CHECKING:
        from lxml import etree
    else:
        from virtui.lazyimport import lxml_etree as etree

so the type checker sees the module and the program imports it on the first
``etree.something``.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for the module ``name``, importing it when an attribute is first read."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r}, {state}>"


lxml_etree = LazyModule("lxml.etree")
