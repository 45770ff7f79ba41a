"""Render a PipelineDAG as Mermaid, DOT or JSON (pure functions of the DAG)."""

from __future__ import annotations

import json

from glacier.dag.model import DatasetNode, PipelineDAG


def _ids(dag: PipelineDAG) -> tuple[dict[str, str], dict[str, str]]:
    # Positional ids: stable (datasets and tasks are ordered) and collision-free, unlike
    # ids derived from paths ("a-b" and "a_b" would clash).
    datasets = {ds.id: f"d{i}" for i, ds in enumerate(dag.datasets)}
    tasks = {task.name: f"t{i}" for i, task in enumerate(dag.tasks)}
    return datasets, tasks


def _escape(text: str) -> str:
    return text.replace('"', "#quot;")


def _column_lines(ds: DatasetNode) -> list[str]:
    """One ``name: dtype`` line per column (``--columns``); a derived schema is marked."""
    if ds.columns is None:
        return ["(schema unknown)"]
    lines = [f"{name}: {dtype}" for name, dtype in ds.columns.items()]
    return lines if ds.schema_declared else [*lines, "(derived)"]


def _dataset_label(ds: DatasetNode, columns: bool, newline: str) -> str:
    return newline.join([ds.id, *_column_lines(ds)]) if columns else ds.id


def to_mermaid(dag: PipelineDAG, *, columns: bool = False) -> str:
    """Datasets as cylinders, tasks as boxes labelled with their executor; with ``columns``
    each dataset also lists its schema."""
    ds_ids, task_ids = _ids(dag)
    lines = ["graph LR"]
    if dag.description:
        # One comment line, whatever the description holds (a newline would end the comment).
        lines.append(f"    %% {dag.name}: {' '.join(dag.description.split())}")
    for ds in dag.datasets:
        lines.append(f'    {ds_ids[ds.id]}[("{_escape(_dataset_label(ds, columns, "<br/>"))}")]')
    for task in dag.tasks:
        lines.append(f'    {task_ids[task.name]}["{_escape(task.name)}<br/>({task.executor.kind})"]')
    for task in dag.tasks:
        for dataset_id in sorted(set(task.inputs.values())):
            lines.append(f"    {ds_ids[dataset_id]} --> {task_ids[task.name]}")
        lines.append(f"    {task_ids[task.name]} --> {ds_ids[task.output]}")
    return "\n".join(lines) + "\n"


def to_dot(dag: PipelineDAG, *, columns: bool = False) -> str:
    ds_ids, task_ids = _ids(dag)
    lines = [f"digraph {json.dumps(dag.name)} {{", "    rankdir=LR;"]
    for ds in dag.datasets:
        label = json.dumps(_dataset_label(ds, columns, "\n"))
        lines.append(f"    {ds_ids[ds.id]} [label={label}, shape=cylinder];")
    for task in dag.tasks:
        label = json.dumps(f"{task.name}\n({task.executor.kind})")
        lines.append(f"    {task_ids[task.name]} [label={label}, shape=box];")
    for task in dag.tasks:
        for dataset_id in sorted(set(task.inputs.values())):
            lines.append(f"    {ds_ids[dataset_id]} -> {task_ids[task.name]};")
        lines.append(f"    {task_ids[task.name]} -> {ds_ids[task.output]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_json(dag: PipelineDAG) -> str:
    return dag.model_dump_json(indent=2)
