"""The import scan: data flows one way (spec + sources -> engine -> records -> judges and
renderers), so no layer reaches one it must not, directly or through other modules.

Every import counts: at module level, inside functions and under TYPE_CHECKING. Importing
a module also runs its packages' `__init__` (except the root package, whose public names
are imported lazily, on first use)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "tpmkit"


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}
# The root package's public names, imported on first use: `import tpmkit` followed by
# `tpmkit.load(...)` reaches every module behind them.
LAZY: dict[str, str] = __import__("tpmkit")._LAZY


def imports(name: str) -> set[str]:
    """The tpmkit modules `name` imports, at any depth of its code."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return imports_in(path.read_text(encoding="utf-8"), package) - {name}


def imports_in(code: str, package: str) -> set[str]:
    """The tpmkit modules (and their packages) that `code`, in `package`, imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            if base == "tpmkit":  # `from tpmkit import load` loads only what `load` needs
                found.update(LAZY.get(alias.name, f"tpmkit.{alias.name}") for alias in node.names)
                continue
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    out = set()
    for target in found:
        if target not in MODULES:
            continue
        out.add(target)
        parts = target.split(".")
        out.update(".".join(parts[:i]) for i in range(2, len(parts)))  # its packages
    return out


GRAPH = {name: imports(name) for name in MODULES}
GRAPH["tpmkit"] = set(LAZY.values())


def reach(name: str) -> dict[str, list[str]]:
    """Every module `name` reaches, with one import chain to it."""
    chains = {name: [name]}
    queue = [name]
    while queue:
        current = queue.pop(0)
        for target in sorted(GRAPH[current]):
            if target not in chains:
                chains[target] = [*chains[current], target]
                queue.append(target)
    del chains[name]
    return chains


def under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


RUNNERS = (
    "tpmkit.project",
    "tpmkit.commands",
    "tpmkit.evaluation",
    "tpmkit.planning",
    "tpmkit.explaining",
    "tpmkit.coaching.run",
    "tpmkit.workforce.run",
    "tpmkit.people",
    "tpmkit.increment",
)
RULES = [
    # (layer, layers it must not reach)
    ("tpmkit.render", ("tpmkit.data",)),
    ("tpmkit.report", ("tpmkit.data",)),
    ("tpmkit.judge", ("tpmkit.data", "tpmkit.render", "tpmkit.report")),  # verdicts, not words
    # the polars engine is the reference: it never needs the Ibis engines (optional)
    ("tpmkit.engine", ("tpmkit.cli", "tpmkit.render", "tpmkit.report", "tpmkit.engines")),
    # the Ibis engines compute records: no commands, no words, no loading of exports
    ("tpmkit.engines", ("tpmkit.cli", "tpmkit.render", "tpmkit.report", "tpmkit.data", *RUNNERS)),
    (
        "tpmkit.spec",
        ("tpmkit.engine", "tpmkit.engines", "tpmkit.data", "tpmkit.render", "tpmkit.report"),
    ),
    ("tpmkit.records", ("tpmkit.data", "tpmkit.engine")),
    # incremental runs cache cells between the reader and the engine: no commands, no words
    ("tpmkit.increment", ("tpmkit.cli", "tpmkit.render", "tpmkit.report", "tpmkit.engines")),
    # annotations are a notes file and its model: the engine gets them as a table of spans
    (
        "tpmkit.annotations",
        ("tpmkit.data", "tpmkit.engine", "tpmkit.render", "tpmkit.report", "tpmkit.cli", *RUNNERS),
    ),
    # explanations are arithmetic on records: a report may call them, they run nothing
    ("tpmkit.explain", ("tpmkit.data", "tpmkit.engine", "tpmkit.cli", *RUNNERS)),
    # notifications word a judged result and send it: the runner (tpmkit.notifying) reads
    # the history and hands over the last run's state
    (
        "tpmkit.notify",
        ("tpmkit.data", "tpmkit.engine.compute", "tpmkit.cli", "tpmkit.history", *RUNNERS),
    ),
    # the coaching effect: arithmetic and records that renderers and reports take; only its
    # runner reads the log and evaluates
    ("tpmkit.coaching.effect", ("tpmkit.data", "tpmkit.engine", "tpmkit.cli", *RUNNERS)),
    ("tpmkit.coaching.model", ("tpmkit.data", "tpmkit.engine", "tpmkit.cli", *RUNNERS)),
    ("tpmkit.coaching", ("tpmkit.cli",)),
    ("tpmkit.workforce.model", ("tpmkit.data", "tpmkit.engine", "tpmkit.cli", *RUNNERS)),
    ("tpmkit.workforce", ("tpmkit.cli",)),
    ("tpmkit.stats", ("tpmkit.data", "tpmkit.engine", "tpmkit.spec", *RUNNERS)),
    # judges and renderers take records: they never reach what loads data or runs the engine
    *(
        (layer, ("tpmkit.engine.compute", "tpmkit.engines", *RUNNERS))
        for layer in ("tpmkit.judge", "tpmkit.report", "tpmkit.render")
    ),
]


@pytest.mark.parametrize(("layer", "forbidden"), RULES, ids=[r[0] for r in RULES])
def test_layer_does_not_reach(layer, forbidden):
    broken = []
    for name in sorted(MODULES):
        if not under(name, layer):
            continue
        for target, chain in reach(name).items():
            if under(target, *forbidden):
                broken.append(" -> ".join(chain))
    assert broken == []


def test_the_scan_sees_imports_inside_functions_and_type_checking():
    code = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from tpmkit.data.cache import CsvCache\n"
        "def f():\n"
        "    from ..engine import compute\n"
        "    import tpmkit.history\n"
    )
    assert imports_in(code, "tpmkit.judge") == {
        "tpmkit.data",
        "tpmkit.data.cache",
        "tpmkit.engine",
        "tpmkit.engine.compute",
        "tpmkit.history",
    }
    # the root package's names lead to their modules
    assert "tpmkit.project" in reach("tpmkit")
    # cli imports its commands' libraries inside the command functions
    assert "tpmkit.data.load" in reach("tpmkit.cli.check")
