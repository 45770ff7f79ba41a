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


# ---- pipelines held in module-level lists, tuples, sets and dicts ------------------------------
LOOP_MODULE = """
import polars as pl
from glacier import Pipeline, Provider
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path={base!r}))
ex = provider.local()

@ex.task()
def clean(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("amount") > 0).with_columns(pl.col("amount") * 10)

@ex.task()
def total(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.select(pl.col("amount").sum())

TABLES = ("orders", "refunds", "returns")
# One pipeline per table, built in a loop and kept only in a list ...
loads = [
    Pipeline(name=f"load_{{t}}")
    .source(provider.bucket("raw", f"{{t}}.csv"))
    .transform(clean)
    .to(provider.bucket("lake", f"clean/{{t}}.parquet"))
    for t in TABLES
]
# ... and a chain per table kept only in a dict: named after the dict and the key.
totals = {{
    t: provider.bucket("lake", f"clean/{{t}}.parquet")
    .transform(total)
    .to(provider.bucket("lake", f"totals/{{t}}.parquet"))
    for t in TABLES
}}
everything = (loads, list(totals.values()))   # the same objects again: listed once
"""


def test_pipelines_built_in_a_loop_and_kept_in_containers_are_found_and_run(tmp_path: Path) -> None:
    import polars as pl

    from glacier.runner import run_pipeline

    base = tmp_path / "data"
    (base / "raw").mkdir(parents=True)
    amounts = {"orders": [5, -1, 7], "refunds": [2, 3, -4], "returns": [1, 1, 1]}
    for table, values in amounts.items():
        pl.DataFrame({"amount": values}).write_csv(base / "raw" / f"{table}.csv")
    path = tmp_path / "loop_pipes.py"
    path.write_text(LOOP_MODULE.format(base=str(base)))

    module = load_pipelines(path)
    found = [p.name for p in module.pipelines]
    assert found == [
        "load_orders",
        "load_refunds",
        "load_returns",
        "totals_orders",
        "totals_refunds",
        "totals_returns",
    ]
    for compiled in module.pipelines:
        run_pipeline(compiled, state_dir=tmp_path / ".glacier")
    for table, values in amounts.items():
        clean = pl.read_parquet(base / "lake" / "clean" / f"{table}.parquet")
        assert clean["amount"].to_list() == [10 * v for v in values if v > 0]
        summed = pl.read_parquet(base / "lake" / "totals" / f"{table}.parquet")
        assert summed["amount"].to_list() == [sum(10 * v for v in values if v > 0)]


def test_pipelines_in_containers_keep_the_contained_chain_rule_and_default_names(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        first = raw.transform(a).to(x)                      # contained in the chain below
        chains = (first.transform(b).to(y), z.transform(c).to(w))
        u, v = provider.bucket("data", "u.parquet"), provider.bucket("data", "v.parquet")
        named = {"daily": Pipeline(name="nightly").source(y).transform(c).to(u)}
        in_sets = {frozenset({raw.transform(b).to(v).with_name("in_a_set")})}
        nested = {"by": {"day": w.transform(a).to(provider.bucket("data", "t.parquet"))}}
        not_pipelines = [raw, [x, "text", 3], {"k": None}]
        """,
    )
    # In data order: 'nightly' reads y, which the first chain writes; 'nested_by_day' reads w.
    assert names(path) == ["pipeline_y_parquet", "pipeline_w_parquet", "in_a_set", "nightly", "nested_by_day"]


def test_an_unfinished_transform_inside_a_list_is_named_where_it_is(tmp_path: Path) -> None:
    path = write(tmp_path, "pending = [raw.transform(a).to(x), raw.transform(b)]\n")
    with pytest.raises(
        DefinitionError, match=r"'pending\[1\]' in pipes is a .transform\(b\) never completed"
    ):
        load_pipelines(path)
