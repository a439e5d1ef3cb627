"""The two halves meet in plain dataclasses: enforce the direction of imports.

Every package has a contract here, like Harlequin's import-linter contracts: the systems
half (model, monitor, backends, review, config, the batch and review command lines) never
imports Textual or Rich, the UI half (tui, screens, widgets) never imports libvirt, and no
two modules import each other, directly or around a longer loop.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "virtui"
UI = ("textual", "rich", "textual_serve")
SYSTEMS = ("libvirt", "libvirtaio", "httpx")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _files(*packages: str) -> list[Path]:
    found: list[Path] = []
    for package in packages:
        target = SRC / package
        found += sorted(target.rglob("*.py")) if target.is_dir() else [target.with_suffix(".py")]
    return found


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _crossing(path: Path, roots: tuple[str, ...], packages: tuple[str, ...]) -> set[str]:
    return {
        name
        for name in _imports(path)
        if name.split(".")[0] in roots or name.startswith(tuple(f"virtui.{p}" for p in packages))
    }


def test_every_module_is_under_a_contract() -> None:
    covered = {
        *_files("ui", "screens", "widgets", "tui"),
        *_files("model", "ports", "backends", "monitor", "review", "config"),
        *_files("cli"),
        *_files(
            "text",
            "xmltext",
            "lazyimport",
            "formatting",
            "background",
            "account",
            "__init__",
            "__main__",
        ),
    }
    assert set(SRC.rglob("*.py")) == covered


@pytest.mark.parametrize("path", _files("ui", "screens", "widgets", "tui"), ids=_module)
def test_the_ui_never_touches_libvirt(path: Path) -> None:
    forbidden = _crossing(path, SYSTEMS, ("backends.libvirt", "backends.prometheus"))
    part = path.relative_to(SRC).parts[0]
    if part in (
        "ui",
        "screens",
        "widgets",
    ):  # screens reach hosts only through ports (subpackages too)
        forbidden |= _crossing(path, (), ("backends", "monitor.hostports", "monitor.sessions"))
    assert not forbidden, f"{_module(path)} imports {sorted(forbidden)}"


# The UI half's own floors, bottom up: what one floor may not import from those above.
ABOVE = {"ui": ("widgets", "screens", "tui"), "widgets": ("screens", "tui"), "screens": ("tui",)}


@pytest.mark.parametrize("path", _files(*ABOVE), ids=_module)
def test_no_ui_module_imports_from_a_floor_above(path: Path) -> None:
    """The app (tui) composes screens, screens compose widgets, and all of them use ui;
    nothing points back up (a screen that needs the app asks with a message)."""
    floor = path.relative_to(SRC).parts[0]
    found = _crossing(path, (), ABOVE[floor])
    assert not found, f"{_module(path)} imports {sorted(found)}"


SYSTEMS_HALF = [
    *_files("model", "ports", "backends", "monitor", "review", "config"),
    SRC / "cli" / "batch.py",
    SRC / "cli" / "review.py",
    SRC / "cli" / "review_show.py",
    SRC / "cli" / "desk.py",
    SRC / "cli" / "backup.py",
]


@pytest.mark.parametrize("path", SYSTEMS_HALF, ids=_module)
def test_the_systems_half_never_imports_textual(path: Path) -> None:
    forbidden = _crossing(path, UI, ("screens", "widgets", "tui", "cli.main", "cli.serve"))
    assert not forbidden, f"{_module(path)} imports {sorted(forbidden)}"


@pytest.mark.parametrize(
    "path",
    _files("text", "xmltext", "lazyimport", "formatting", "background", "account"),
    ids=_module,
)
def test_the_leaf_modules_import_only_the_standard_library(path: Path) -> None:
    found = {name for name in _imports(path) if name.split(".")[0] in ("virtui", *UI, *SYSTEMS)}
    assert not found, f"{_module(path)} imports {sorted(found)}"


@pytest.mark.parametrize("path", _files("ports"), ids=_module)
def test_ports_speak_only_in_model_types(path: Path) -> None:
    found = {
        name
        for name in _imports(path)
        if name.startswith("virtui.") and not name.startswith(("virtui.model", "virtui.ports"))
    }
    assert not found, f"{_module(path)} imports {sorted(found)}"


@pytest.mark.parametrize("path", _files("model"), ids=_module)
def test_model_imports_nothing_but_the_standard_library_and_itself(path: Path) -> None:
    third_party = {
        name.split(".")[0]
        for name in _imports(path)
        if name.split(".")[0] not in ("virtui", "__future__", *sys.stdlib_module_names)
    }
    assert not third_party, f"{_module(path)} imports {sorted(third_party)}"


def _graph() -> dict[str, set[str]]:
    modules = {_module(path): path for path in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imports(path):
            # "from virtui.x import y": y is a module or a name in x; keep what exists
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name and not name.startswith(imported + "."):
                targets.add(imported)
        graph[name] = targets - {"virtui"}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import loop (lazy imports inside functions count), or []."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_no_import_cycles() -> None:
    assert _cycle(_graph()) == []


def test_the_cycle_finder_finds_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def _module_level_imports(path: Path) -> set[str]:
    """Imports run when the module is imported (not those inside functions, nor those
    only for type checking)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", _files("monitor"), ids=_module)
def test_monitor_loads_no_libvirt_backend_on_import(path: Path) -> None:
    """The monitor speaks to backends through their base class: a libvirt backend is
    loaded when one is opened, so the TUI (and a Prometheus-only fleet) import no
    libvirt."""
    found = {
        name
        for name in _module_level_imports(path)
        if name.startswith(("virtui.backends.libvirt", "virtui.backends.prometheus", "libvirt"))
    }
    assert not found, f"{_module(path)} imports {sorted(found)}"


def test_importing_the_tui_loads_no_libvirt() -> None:
    import subprocess

    probe = "import sys, virtui.tui.app; print('libvirt' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("path", _files("ui", "screens", "widgets", "tui", "cli"), ids=_module)
def test_only_textual_hacks_reaches_into_textuals_private_modules(path: Path) -> None:
    """Textual is pinned; what virtui changes inside it is one module to check against a
    new release (widgets/textual_hacks.py)."""
    private = {
        name
        for name in _imports(path)
        if name.startswith("textual.") and any(p.startswith("_") for p in name.split(".")[1:])
    }
    if path.name != "textual_hacks.py":
        assert not private, f"{_module(path)} imports {sorted(private)}"


@pytest.mark.parametrize("path", _files("ui", "screens", "widgets", "tui"), ids=_module)
def test_the_ui_runs_work_off_its_loop_one_way(path: Path) -> None:
    """Blocking work goes through the app's ``calls`` (ui/calls.py): its outcome comes
    back on the loop, or nowhere once the app has closed. A detached worker or a
    hand-back of a screen's own is a second way to get that wrong. (A console's pump
    and the exit's watchdog are threads for their whole lives, not work.)"""
    source = path.read_text(encoding="utf-8")
    if path.name != "calls.py":
        assert "virtui.background.run_detached" not in _imports(path), _module(path)
        assert "call_from_thread" not in source, _module(path)


def test_ui_messages_holds_only_messages_several_modules_send() -> None:
    """A message with one sender is defined beside it (Textual's way); ui/messages.py is
    for those several screens or controllers send."""
    messages = SRC / "ui" / "messages.py"
    names = [
        node.name
        for node in ast.parse(messages.read_text(encoding="utf-8")).body
        if isinstance(node, ast.ClassDef)
    ]
    assert names
    for name in names:
        senders = {
            _module(path)
            for path in _files("screens", "widgets", "tui", "ui")
            if path != messages and f"{name}(" in path.read_text(encoding="utf-8")
        }
        assert len(senders) >= 2, f"{name} is sent only from {sorted(senders)}"
