"""cache=True never reuses a stale result: each way the result can change without the task's
own source changing re-runs the task; an unchanged reach stays a hit (also in another
process); a value that cannot be fingerprinted turns the cache off with a warning.

Every case writes a real project (pipeline file + helper modules) into tmp_path, runs it
with real Polars on real files, edits it, and imports it again from disk, as a new
``glacier run`` would."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from runtime_helpers import SALES, write_sources

import glacier
from glacier import load_pipelines
from glacier.formats import Format
from glacier.io import stat_uri
from glacier.runner import run_pipeline
from glacier.runner.code_fingerprint import CacheDisabledWarning

PIPELINE = """
import polars as pl
from glacier import Provider
from glacier.config import LocalConfig
{imports}

provider = Provider(config=LocalConfig(base_path={base!r}))
ex = provider.local()
{body}

@ex.task(cache=True)
def keep(df):
    return df.filter(pl.col("amount") > {limit})

out = provider.bucket("lake", "{source}").transform(keep).to(provider.bucket("lake", "{target}"))
"""


class Project:
    """A project folder of modules that are imported afresh from disk before every run."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, module: str, source: str) -> None:
        (self.root / f"{module}.py").write_text(textwrap.dedent(source))

    def pipeline(
        self,
        *,
        limit: str,
        imports: str = "",
        body: str = "",
        source: str = "sales.parquet",
        target: str = "kept.parquet",
    ) -> None:
        text = PIPELINE.format(
            base=str(self.root),
            imports=imports,
            body=textwrap.dedent(body),
            limit=limit,
            source=source,
            target=target,
        )
        (self.root / "pipe.py").write_text(text)

    def load(self, module: str = "pipe") -> Any:
        """The module's (longest) pipeline, from a fresh import of the whole project."""
        self.forget()
        pipelines = load_pipelines(self.root / f"{module}.py").pipelines
        return max(pipelines, key=lambda pipeline: len(pipeline.dag.tasks))

    def run(self, pipeline: Any = None) -> str:
        result = run_pipeline(pipeline if pipeline is not None else self.load())
        return str(result["keep"].status)

    def kept(self) -> int:
        return pl.read_parquet(self.root / "lake/kept.parquet").height

    def forget(self) -> None:
        """Drop the project's modules, so the next import reads the files again."""
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if file and Path(file).resolve().parent == self.root.resolve():
                del sys.modules[name]
        importlib.invalidate_caches()


@pytest.fixture
def project(tmp_path: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # no .pyc of an edit in the same second
    monkeypatch.syspath_prepend(str(tmp_path))
    write_sources(tmp_path, "lake", {"sales.parquet": SALES})
    folder = Project(tmp_path)
    yield folder
    folder.forget()


def above(limit: float) -> int:
    return SALES.filter(pl.col("amount") > limit).height


def assert_reruns_after(project: Project, edit: Any, *, before: float = 2.0, after: float = 5.0) -> None:
    assert project.run() == "succeeded"
    assert project.run() == "cached"
    assert project.kept() == above(before)
    edit()
    assert project.run() == "succeeded"
    assert project.kept() == above(after)
    assert project.run() == "cached"


# -- code the task reaches ------------------------------------------------------------------------


def test_helper_in_another_module_by_attribute(project: Project) -> None:
    project.write("helpmod", "def limit():\n    return 2.0\n")
    project.pipeline(imports="import helpmod", limit="helpmod.limit()")
    assert_reruns_after(project, lambda: project.write("helpmod", "def limit():\n    return 5.0\n"))


def test_helper_imported_by_name_from_another_module(project: Project) -> None:
    project.write("helpfrom", "def limit():\n    return 2.0\n")
    project.pipeline(imports="from helpfrom import limit", limit="limit()")
    assert_reruns_after(project, lambda: project.write("helpfrom", "def limit():\n    return 5.0\n"))


def test_helper_of_a_helper_two_modules_away(project: Project) -> None:
    project.write("outer", "import inner\n\ndef limit():\n    return inner.base() + 1.0\n")
    project.write("inner", "def base():\n    return 1.0\n")
    project.pipeline(imports="import outer", limit="outer.limit()")
    assert_reruns_after(project, lambda: project.write("inner", "def base():\n    return 4.0\n"))


def test_staticmethod_helper(project: Project) -> None:
    rules = "class Rules:\n    @staticmethod\n    def limit():\n        return {}\n"
    project.write("rules", rules.format("2.0"))
    project.pipeline(imports="from rules import Rules", limit="Rules.limit()")
    assert_reruns_after(project, lambda: project.write("rules", rules.format("5.0")))


def test_lru_cache_helper(project: Project) -> None:
    cached = "import functools\n\n@functools.lru_cache(maxsize=None)\ndef limit():\n    return {}\n"
    project.write("cachedmod", cached.format("2.0"))
    project.pipeline(imports="import cachedmod", limit="cachedmod.limit()")
    assert_reruns_after(project, lambda: project.write("cachedmod", cached.format("5.0")))


# -- data the task reads --------------------------------------------------------------------------


def test_module_constant_of_the_task_module(project: Project) -> None:
    project.pipeline(body="LIMIT = 2.0", limit="LIMIT")
    assert_reruns_after(project, lambda: project.pipeline(body="LIMIT = 5.0", limit="LIMIT"))


def test_module_constant_of_another_module(project: Project) -> None:
    project.write("settings", "LIMIT = 2.0\n")
    project.pipeline(imports="import settings", limit="settings.LIMIT")
    assert_reruns_after(project, lambda: project.write("settings", "LIMIT = 5.0\n"))


def test_global_dict_edited_in_the_file(project: Project) -> None:
    body = 'RULES = {{"amount": {{"min": {}, "tags": ("a", "b")}}}}'
    project.pipeline(body=body.format("2.0"), limit='RULES["amount"]["min"]')
    assert_reruns_after(
        project, lambda: project.pipeline(body=body.format("5.0"), limit='RULES["amount"]["min"]')
    )


def test_global_dict_mutated_in_the_same_process(project: Project) -> None:
    project.pipeline(body='RULES = {"min": 2.0}', limit='RULES["min"]')
    pipeline = project.load()
    assert project.run(pipeline) == "succeeded"
    assert project.run(pipeline) == "cached"
    sys.modules["pipe"].RULES["min"] = 5.0  # nothing re-imported: the same objects, mutated
    assert project.run(pipeline) == "succeeded"
    assert project.kept() == above(5.0)


DYNAMIC = """
import polars as pl
from glacier import Provider
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path={base!r}))
ex = provider.local()


def make_step(name, limit):
    @ex.task(name=name, cache=True)
    def step(df):
        return df.filter(pl.col("amount") > limit)

    return step


def build_pipeline(tasks, buckets):
    pipeline = buckets[0]
    for task, target in zip(tasks, buckets[1:]):
        pipeline = pipeline.transform(task).to(target)
    return pipeline


tasks = [make_step(f"step{{i}}", limit) for i, limit in enumerate({limits})]
buckets = [provider.bucket("lake", "sales.parquet")]
buckets += [provider.bucket("lake", f"step{{i}}.parquet") for i in range(len(tasks))]
pipeline = build_pipeline(tasks, buckets)
"""


def test_closure_variable_of_factory_made_tasks(project: Project) -> None:
    """Seed 001's dynamic pipeline: tasks made in a loop by a factory differ only by the
    value their closure captured."""

    def run(limits: list[float]) -> dict[str, str]:
        (project.root / "dynamic.py").write_text(DYNAMIC.format(base=str(project.root), limits=limits))
        result = run_pipeline(project.load("dynamic"))
        return {name: task.status for name, task in result.tasks.items()}

    assert set(run([1.0, 2.0, 3.0]).values()) == {"succeeded"}
    assert set(run([1.0, 2.0, 3.0]).values()) == {"cached"}
    assert run([1.0, 6.0, 3.0]) == {"step0": "cached", "step1": "succeeded", "step2": "succeeded"}
    assert pl.read_parquet(project.root / "lake/step2.parquet").height == above(6.0)


# -- inputs ---------------------------------------------------------------------------------------


def _rewrite_keeping_size_and_mtime(path: Path, write: Any) -> None:
    before = path.stat()
    old_fingerprint = stat_uri(str(path), Format.CSV if path.suffix == ".csv" else Format.PARQUET)
    write()
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    new_fingerprint = stat_uri(str(path), Format.CSV if path.suffix == ".csv" else Format.PARQUET)
    assert new_fingerprint == old_fingerprint  # what size + mtime alone would have seen


def test_input_rewritten_with_the_same_size_and_mtime(project: Project) -> None:
    source = project.root / "lake/sales.csv"
    SALES.write_csv(source)
    project.pipeline(limit="6.5", source="sales.csv")
    assert project.run() == "succeeded"
    assert project.run() == "cached"
    first = project.kept()
    text = source.read_text()
    assert "12.0" in text
    _rewrite_keeping_size_and_mtime(source, lambda: source.write_text(text.replace("12.0", "02.0")))
    assert project.run() == "succeeded"
    assert project.kept() == first - 1


DIRECTORY = """
import polars as pl
from glacier import Provider
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path={base!r}))


@provider.local().task(cache=True)
def keep(df):
    return df.filter(pl.col("amount") > 6.5)


out = provider.bucket("lake", "parts/").transform(keep).to(provider.bucket("lake", "kept.parquet"))
"""


def test_directory_input_file_rewritten_with_the_same_size_and_mtime(project: Project) -> None:
    part = project.root / "lake/parts/region=eu/part-0.parquet"
    part.parent.mkdir(parents=True)
    frame = SALES.select("order_id", "amount")
    frame.write_parquet(part, compression="uncompressed", statistics=False)
    (project.root / "dirpipe.py").write_text(DIRECTORY.format(base=str(project.root)))

    def run() -> str:
        return str(run_pipeline(project.load("dirpipe"))["keep"].status)

    assert run() == "succeeded"
    assert run() == "cached"
    amount = pl.col("amount")
    changed = frame.with_columns(amount=pl.when(amount == 12.0).then(2.0).otherwise(amount))
    before = part.stat()
    changed.write_parquet(part, compression="uncompressed", statistics=False)
    os.utime(part, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (part.stat().st_size, part.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert run() == "succeeded"
    assert project.kept() == changed.filter(pl.col("amount") > 6.5).height


def test_output_rewritten_with_the_same_size_and_mtime(project: Project) -> None:
    project.pipeline(limit="2.0", target="kept.csv")
    assert project.run() == "succeeded"
    assert project.run() == "cached"
    output = project.root / "lake/kept.csv"
    text = output.read_text()
    assert "12.0" in text
    _rewrite_keeping_size_and_mtime(output, lambda: output.write_text(text.replace("12.0", "99.0")))
    assert project.run() == "succeeded"  # someone else's bytes in the output: not a hit
    assert output.read_text() == text


# -- hits stay hits -------------------------------------------------------------------------------

RICH_HELPERS = """
import dataclasses
import enum
import functools
import re

import polars as pl


class Mode(enum.Enum):
    STRICT = "strict"
    LOOSE = "loose"


@dataclasses.dataclass(frozen=True)
class Rule:
    column: str = "amount"
    limit: float = 2.0
    tags: frozenset = frozenset({"x", "y", "z", "w"})


class Rules:
    DEFAULT = Rule()

    @staticmethod
    def limit(rule):
        return rule.limit

    @classmethod
    def default(cls):
        return cls.DEFAULT


@functools.lru_cache(maxsize=None)
def scale():
    return 1.0


PATTERN = re.compile("^amount$")
POSITIVE = pl.col("amount") > 0
KINDS = {"eu", "us", "apac"}


def threshold(mode):
    rule = Rules.default()
    return Rules.limit(rule) * scale() if mode is Mode.STRICT and PATTERN.match(rule.column) else 0.0
"""

RICH_BODY = """
import helpers
from helpers import Mode, POSITIVE

SETTINGS = {"mode": Mode.STRICT, "kinds": helpers.KINDS, "schema": {"amount": pl.Float64}}


def factory(extra):
    def limit():
        return helpers.threshold(SETTINGS["mode"]) + extra
    return limit


LIMIT = factory(0.0)
"""

SUBPROCESS = """
import json, sys
from glacier import load_pipelines
from glacier.runner import run_pipeline
(pipeline,) = load_pipelines(sys.argv[1]).pipelines
print(json.dumps({n: t.status for n, t in run_pipeline(pipeline).tasks.items()}))
"""


def test_nothing_reachable_changed_stays_a_hit_also_in_another_process(
    project: Project, state_dir: Path
) -> None:
    project.write("helpers", RICH_HELPERS)
    project.pipeline(body=RICH_BODY, limit="LIMIT()", source="sales.parquet")
    (project.root / "pipe.py").write_text(
        (project.root / "pipe.py").read_text().replace("df.filter(", "df.filter(POSITIVE).filter(")
    )
    assert project.run() == "succeeded"
    assert project.kept() == above(2.0)
    assert project.run() == "cached"  # imported again: new objects, same content
    repository = Path(glacier.__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(repository), str(project.root)]),
        "PYTHONHASHSEED": "12345",  # other str hashes and set orders than this process
        "PYTHONDONTWRITEBYTECODE": "1",
        "GLACIER_STATE_DIR": str(state_dir),
    }
    done = subprocess.run(
        [sys.executable, "-c", SUBPROCESS, str(project.root / "pipe.py")],
        env=env,
        cwd=project.root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"keep": "cached"}
    # ... and a change deep inside that reach is still seen.
    project.write("helpers", RICH_HELPERS.replace("limit: float = 2.0", "limit: float = 5.0"))
    assert project.run() == "succeeded"
    assert project.kept() == above(5.0)


# -- what cannot be fingerprinted -----------------------------------------------------------------


def test_unhashable_global_turns_the_cache_off_with_a_warning(project: Project) -> None:
    project.pipeline(imports="import random", body="RNG = random.Random(7)", limit="RNG.random()")
    for _ in range(2):
        with pytest.warns(CacheDisabledWarning, match=r"Task 'keep'.*global 'RNG' read by pipe\.keep"):
            assert project.run() == "succeeded"
