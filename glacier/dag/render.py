"""Render a PipelineDAG as Mermaid, DOT or JSON (pure functions of the DAG)."""

from __future__ import annotations

import json

from glacier.dag.model import PipelineDAG


def _ids(dag: PipelineDAG) -> tuple[dict[str, str], dict[str, str]]:
    # Positional ids: stable (datasets and tasks are ordered) and collision-free, unlike
    # ids derived from paths ("a-b" and "a_b" would clash).
    datasets = {ds.id: f"d{i}" for i, ds in enumerate(dag.datasets)}
    tasks = {task.name: f"t{i}" for i, task in enumerate(dag.tasks)}
    return datasets, tasks


def _escape(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(dag: PipelineDAG) -> str:
    """Datasets as cylinders, tasks as boxes labelled with their executor."""
    ds_ids, task_ids = _ids(dag)
    lines = ["graph LR"]
    if dag.description:
        # One comment line, whatever the description holds (a newline would end the comment).
        lines.append(f"    %% {dag.name}: {' '.join(dag.description.split())}")
    for ds in dag.datasets:
        lines.append(f'    {ds_ids[ds.id]}[("{_escape(ds.id)}")]')
    for task in dag.tasks:
        lines.append(f'    {task_ids[task.name]}["{_escape(task.name)}<br/>({task.executor.kind})"]')
    for task in dag.tasks:
        for dataset_id in sorted(set(task.inputs.values())):
            lines.append(f"    {ds_ids[dataset_id]} --> {task_ids[task.name]}")
        lines.append(f"    {task_ids[task.name]} --> {ds_ids[task.output]}")
    return "\n".join(lines) + "\n"


def to_dot(dag: PipelineDAG) -> str:
    ds_ids, task_ids = _ids(dag)
    lines = [f"digraph {json.dumps(dag.name)} {{", "    rankdir=LR;"]
    for ds in dag.datasets:
        lines.append(f"    {ds_ids[ds.id]} [label={json.dumps(ds.id)}, shape=cylinder];")
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
