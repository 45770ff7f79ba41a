"""The definition layer's own structure: its modules import one way (no cycle, counting
function-level and TYPE_CHECKING imports), and none reads another's private attributes."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

DSL = Path(__file__).resolve().parent.parent / "glacier" / "dsl"
MODULES = {path.stem: ast.parse(path.read_text()) for path in sorted(DSL.glob("*.py"))}


def _imported_dsl_modules(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):  # every import, at any depth
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[:2] == ["glacier", "dsl"]:
                found.add(parts[2] if len(parts) > 2 and parts[2] in MODULES else "__init__")
    return found


def test_the_dsl_import_graph_has_no_cycle() -> None:
    graph = {name: _imported_dsl_modules(tree) - {name} for name, tree in MODULES.items()}
    assert "__init__" not in set().union(*(deps for name, deps in graph.items() if name != "__init__"))
    order = list(graphlib.TopologicalSorter(graph).static_order())  # raises CycleError on a cycle
    assert order.index("task") < order.index("lineage") < order.index("pipeline") < order.index("bucket")
    assert order.index("bucket") < order.index("discovery") and order.index("bucket") < order.index(
        "provider"
    )


def _private(attr: str) -> bool:
    return attr.startswith("_") and not (attr.startswith("__") and attr.endswith("__"))


def test_no_dsl_module_reads_another_modules_private_attributes() -> None:
    """A private attribute may only be used in the module that defines it (``self._x = ``,
    ``def _x``, a class-level ``_x = ``)."""
    offences: list[str] = []
    for name, tree in MODULES.items():
        defined: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                defined.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                defined.add(node.attr)
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                defined.update(t.id for t in targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.keyword) and node.arg:
                defined.add(node.arg)  # _evolve(_pending=...) sets the module's own fields
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in defined:
                offences.append(f"{name}.py:{node.lineno} reads .{node.attr}")
    assert not offences
