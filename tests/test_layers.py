"""One direction of flow: only the definition layer (glacier/dsl/) and the command line
(glacier/cli/) import ``glacier.dsl``; every backend works from the contract in
``glacier.dag`` (``CompiledPipeline``, ``PipelineLoader``)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ALLOWED = ("glacier/dsl/", "glacier/cli/", "pulumi_programs/")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "glacier":
                names.update(f"glacier.{alias.name}" for alias in node.names)
    return names


def test_no_backend_imports_the_definition_layer() -> None:
    offenders = []
    for path in sorted((REPO / "glacier").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel.startswith(ALLOWED) or rel == "glacier/__init__.py":  # the public facade
            continue
        dsl = sorted(
            n
            for n in _imports(path)
            if n == "glacier.dsl"
            or n.startswith("glacier.dsl.")
            or n
            in {
                "glacier.Pipeline",
                "glacier.Provider",
                "glacier.Bucket",
                "glacier.Task",
                "glacier.load_pipelines",
            }
        )
        if dsl:
            offenders.append(f"{rel}: {', '.join(dsl)}")
    assert offenders == []


def test_no_module_is_much_over_400_lines() -> None:
    long = {
        p.relative_to(REPO).as_posix(): n
        for p in (REPO / "glacier").rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 400
    }
    assert long == {}
