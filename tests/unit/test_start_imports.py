"""The import graph benchmarks/bench_start_memory.py reads from virtui's source is the
one Python follows: importing the start's modules loads exactly the modules the graph
reaches from them (so its "core" and "full" sets are what they say)."""

from __future__ import annotations

import json
import subprocess
import sys

from benchmarks.bench_start_memory import CORE, START, import_graph, module_files, reach

LOADED = """
import importlib, json, sys
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
print(json.dumps(sorted(m for m in sys.modules if m == "virtui" or m.startswith("virtui."))))
"""


def _loaded(start: tuple[str, ...]) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", LOADED, json.dumps(start)],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(done.stdout))


def test_the_graph_reaches_what_a_start_imports() -> None:
    graph = import_graph(module_files())
    assert reach(graph, START) == _loaded(START)


def test_the_core_is_smaller_and_loads_as_read() -> None:
    graph = import_graph(module_files())
    core = reach(graph, CORE)
    assert core == _loaded(CORE)
    assert core < reach(graph, START)  # the core loads no module a start does not
