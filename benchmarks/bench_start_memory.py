"""What loading virtui's modules later could save in resident memory: virtui's imports
at start beside the stack alone and beside the least virtui could load at start.

Run: ``.venv/bin/python -m benchmarks.bench_start_memory`` (from the repository root).

Three sets of modules, each imported by a fresh Python process, whose resident memory
is then read (the median of ``--rounds`` processes per set):

- **stack**: libvirt, Textual (its app and widgets package) and Rich, as the floors
  load them;
- **core**: what the domains screen, the libvirt backend, the host sessions, the
  review desk's store (the header counts its requests) and the command line reach by
  their module-level imports: the least a console showing the domains could load;
- **full**: what virtui loads at start today (the app, reached the same way).

The sets come from virtui's own import graph, read from its source (module-level
imports, not those under ``TYPE_CHECKING`` or inside functions); the test
``tests/unit/test_start_imports.py`` holds that graph to what a start really imports.
"full - core" is the most that loading every other screen, controller and desk
module on first use could save.
"""

from __future__ import annotations

import argparse
import ast
import json
import statistics
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "src"
START = (
    "virtui.cli.main",
    "virtui.tui.app",
    "virtui.backends.libvirt.backend",
    "virtui.monitor.sessions",
)
CORE = (
    "virtui.cli.main",
    "virtui.screens.domains",
    "virtui.backends.libvirt.backend",
    "virtui.monitor.sessions",
    "virtui.review.store",
)
STACK = "import libvirt, rich, textual.app, textual.widgets"
MEASURE = """
import gc, importlib, json, sys
{stack}
for name in json.loads(sys.stdin.read()):
    importlib.import_module(name)
gc.collect()
print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmRSS")))
"""


def module_files(source: Path = SOURCE) -> dict[str, Path]:
    """virtui's modules by dotted name."""
    files = {}
    for path in (source / "virtui").rglob("*.py"):
        parts = path.relative_to(source).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        files[name] = path
    return files


def import_graph(files: dict[str, Path]) -> dict[str, set[str]]:
    """Each module's module-level imports (with their parent packages), read from source."""
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        found: set[str] = set()
        _collect(ast.parse(path.read_text()).body, name, path, files, found)
        graph[name] = found
    return graph


def _collect(
    body: Iterable[ast.stmt], name: str, path: Path, files: dict[str, Path], found: set[str]
) -> None:
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            for target in _targets(node, name, path, files):
                parts = target.split(".")
                found.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
        elif isinstance(node, ast.If):
            test = node.test
            typing_only = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
            )
            if not typing_only:
                _collect(node.body, name, path, files, found)
            _collect(node.orelse, name, path, files, found)
        elif isinstance(node, ast.Try):
            _collect(node.body, name, path, files, found)
            for handler in node.handlers:
                _collect(handler.body, name, path, files, found)
            _collect(node.finalbody, name, path, files, found)


def _targets(
    node: ast.Import | ast.ImportFrom, name: str, path: Path, files: dict[str, Path]
) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    return [base] + [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in files]


def reach(graph: dict[str, set[str]], start: Iterable[str]) -> set[str]:
    """Every virtui module that importing ``start`` imports."""
    seen: set[str] = set()
    todo: list[str] = []
    for name in start:  # a module's parent packages are imported before it
        parts = name.split(".")
        todo.extend(".".join(parts[:end]) for end in range(1, len(parts) + 1))
    while todo:
        name = todo.pop()
        if name not in seen and name in graph:
            seen.add(name)
            todo.extend(graph[name])
    return seen


def resident_kib(modules: Iterable[str]) -> int:
    """VmRSS of a fresh Python that imported the stack, then ``modules``."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE.format(stack=STACK)],
        input=json.dumps(sorted(modules)),
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(SOURCE), "PATH": "/usr/bin:/bin"},
    )
    return int(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    files = module_files()
    graph = import_graph(files)
    sets = {"stack": set(), "core": reach(graph, CORE), "full": reach(graph, START)}
    figures: dict[str, list[int]] = {name: [] for name in sets}
    for _ in range(args.rounds):  # interleaved: the machine's drift falls on all three
        for name, modules in sets.items():
            figures[name].append(resident_kib(modules))
    stack = statistics.median(figures["stack"]) / 1024
    print(f"{'set':<6} {'modules':>8} {'source KiB':>11} {'RSS MiB':>8} {'over stack':>11}")
    for name, modules in sets.items():
        rss = statistics.median(figures[name]) / 1024
        source = sum(files[m].stat().st_size for m in modules) // 1024
        print(f"{name:<6} {len(modules):>8} {source:>11} {rss:>8.1f} {rss - stack:>10.1f}")
    full, core = (statistics.median(figures[n]) / 1024 for n in ("full", "core"))
    print(f"loading all but the core on first use would save at most {full - core:.1f} MiB")


if __name__ == "__main__":
    main()
