"""Module discovery: every pipeline of a file or module, either style, each chain once, in
data order."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from glacier import load_pipelines
from glacier.errors import DefinitionError, DiscoveryError, GraphError

HEADER = """
import polars as pl
from glacier import Pipeline, Provider
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path="./data"))
ex = provider.local()

@ex.task()
def a(df): return df

@ex.task()
def b(df): return df

@ex.task()
def c(df): return df

@ex.task()
def join(left, right): return left.join(right, on="id")

raw, x, y, z, w = (provider.bucket("data", f"{n}.parquet") for n in ("raw", "x", "y", "z", "w"))
"""


def write(tmp_path: Path, body: str, name: str = "pipes") -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(HEADER + textwrap.dedent(body))
    return path


def names(path: Path | str) -> list[str]:
    return [p.name for p in load_pipelines(path).pipelines]


def test_both_styles_in_one_module(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        factory = Pipeline(name="factory").source(raw).transform(a).to(x)
        chained = y.transform(b).to(z).with_name("chained")
        multi = Pipeline(left=raw, right=y).transform(join).to(w)
        """,
    )
    assert names(path) == ["factory", "chained", "multi"]


def test_a_chain_inside_a_longer_one_is_listed_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        step1 = raw.transform(a).to(x)
        full = step1.transform(b).to(y)
        tail = x.transform(b).to(y)          # the same step as full's second one
        """,
    )
    module = load_pipelines(path)
    assert [p.name for p in module.pipelines] == ["full"]
    assert module.pipelines[0].dag.topological_order() == ["a", "b"]


def test_the_same_chain_in_both_styles_is_listed_once_under_its_explicit_name(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        chained = raw.transform(a).to(x).transform(b).to(y)
        factory = Pipeline(name="etl").source(raw).transform(a).to(x).transform(b).to(y)
        """,
    )
    assert names(path) == ["etl"]


def test_branches_sharing_a_prefix_are_both_kept(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        base = raw.transform(a).to(x)
        left = base.transform(b).to(y)
        right = base.transform(c).to(z)
        """,
    )
    assert names(path) == ["left", "right"]


def test_pipelines_come_out_in_data_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        report = Pipeline(name="report").source(y).transform(c).to(z)     # reads y ...
        middle = Pipeline(name="middle").source(x).transform(b).to(y)     # ... written here
        first = Pipeline(name="first").source(raw).transform(a).to(x)
        unrelated = Pipeline(name="unrelated").source(raw).transform(c).to(w)
        """,
    )
    assert names(path) == ["first", "unrelated", "middle", "report"]


def test_steps_only_and_unfinished_pipelines_are_not_pipelines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        just_sources = Pipeline(name="join").sources(left=raw, right=y)
        just_a_source = Pipeline(name="cleaning").source(raw)
        real = raw.transform(a).to(x)
        """,
    )
    assert names(path) == ["real"]


def test_select_one_pipeline(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        one = raw.transform(a).to(x)
        two = y.transform(b).to(z)
        """,
    )
    module = load_pipelines(path)
    assert [p.name for p in module.select("two")] == ["two"]
    assert [p.name for p in module.select(None)] == ["one", "two"]
    with pytest.raises(
        DiscoveryError, match=r"No pipeline named 'three'.*Fix: pass --pipeline with one of: one, two"
    ):
        module.select("three")


def test_load_by_module_name_and_by_module_object(tmp_path: Path) -> None:
    package = tmp_path / "pkg_discovery_test"
    package.mkdir()
    (package / "__init__.py").write_text("")
    write(package, "flow = raw.transform(a).to(x).with_name('flow')\n", name="flows")
    sys.path.insert(0, str(tmp_path))
    try:
        module = load_pipelines("pkg_discovery_test.flows")
        assert module.module_name == "pkg_discovery_test.flows"
        assert module.root == tmp_path
        assert [p.name for p in module.pipelines] == ["flow"]
        assert module.pipelines[0].dag.task("a").code_ref == "pkg_discovery_test.flows:a"
        by_object = load_pipelines(sys.modules["pkg_discovery_test.flows"])
        assert [p.name for p in by_object.pipelines] == ["flow"]
        # A file inside a package is named as the package would import it.
        by_path = load_pipelines(package / "flows.py")
        assert by_path.module_name == "pkg_discovery_test.flows" and by_path.root == tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("pkg_discovery_test")]:
            del sys.modules[name]


def test_duplicate_pipeline_names_in_one_module(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        one = Pipeline(name="etl").source(raw).transform(a).to(x)
        two = y.transform(b).to(z).with_name("etl")
        """,
    )
    with pytest.raises(DiscoveryError, match=r"more than one pipeline named 'etl'.*Fix: give each pipeline"):
        load_pipelines(path)


def test_two_pipelines_writing_one_dataset_differently(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        one = raw.transform(a).to(x)
        two = y.transform(b).to(x)
        """,
    )
    with pytest.raises(
        GraphError, match=r"'one' \(task 'a'\) and 'two' \(task 'b'\) both write dataset 'data/x"
    ):
        load_pipelines(path)


def test_pipelines_reading_each_other_in_a_cycle(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        there = Pipeline(name="there").source(x).transform(a).to(y)
        back = Pipeline(name="back").source(y).transform(b).to(x)
        """,
    )
    with pytest.raises(GraphError, match="read each other's outputs in a cycle"):
        load_pipelines(path)


def test_an_unfinished_transform_at_module_level(tmp_path: Path) -> None:
    path = write(tmp_path, "dangling = raw.transform(a)\n")
    with pytest.raises(DefinitionError, match=r"'dangling' .* never completed by .to\(\).*Fix: finish it"):
        load_pipelines(path)


def test_a_failed_load_leaves_no_half_module_behind(tmp_path: Path) -> None:
    path = write(tmp_path, "raise RuntimeError('boom')\n", name="broken_discovery_mod")
    with pytest.raises(DiscoveryError, match="RuntimeError: boom"):
        load_pipelines(path)
    assert "broken_discovery_mod" not in sys.modules
