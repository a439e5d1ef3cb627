"""The two halves meet in plain dataclasses: enforce the direction of imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "virtui"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _files(*packages: str) -> list[Path]:
    return [path for package in packages for path in sorted((SRC / package).rglob("*.py"))]


@pytest.mark.parametrize("path", _files("screens", "widgets"), ids=lambda p: p.name)
def test_screens_and_widgets_never_touch_libvirt(path: Path) -> None:
    forbidden = {
        name
        for name in _imports(path)
        if name.split(".")[0] in ("libvirt", "libvirtaio", "httpx")
        or name.startswith("virtui.backends")
    }
    assert not forbidden, f"{path.relative_to(SRC)} imports {sorted(forbidden)}"


@pytest.mark.parametrize("path", _files("model", "backends", "monitor"), ids=lambda p: p.name)
def test_model_backends_and_monitoring_never_import_textual(path: Path) -> None:
    forbidden = {
        name
        for name in _imports(path)
        if name.split(".")[0] in ("textual", "rich")
        or name.startswith(("virtui.screens", "virtui.widgets", "virtui.app"))
    }
    assert not forbidden, f"{path.relative_to(SRC)} imports {sorted(forbidden)}"


@pytest.mark.parametrize("path", _files("model"), ids=lambda p: p.name)
def test_model_imports_nothing_but_the_standard_library_and_itself(path: Path) -> None:
    third_party = {
        name
        for name in _imports(path)
        if name.split(".")[0] not in ("virtui", "__future__")
        and name.split(".")[0] not in ("enum", "dataclasses", "collections", "typing", "time")
    }
    assert not third_party, f"{path.relative_to(SRC)} imports {sorted(third_party)}"
