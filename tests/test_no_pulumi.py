"""The definition layer needs only polars and pydantic: ``import glacier``, the DSL and the
typed DAG work in a process where importing pulumi (or boto3, click, rich) fails."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent(
    """
    import importlib.abc
    import importlib.machinery
    import sys

    BLOCKED = {"pulumi", "pulumi_aws", "boto3", "botocore", "click", "rich", "moto"}

    class Blocker(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        # Found, but importing fails: `import pulumi` raises ImportError, while probes such as
        # polars' importlib.util.find_spec("boto3") keep working.
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                return importlib.machinery.ModuleSpec(name, self)
            return None

        def create_module(self, spec):
            raise ImportError(f"{spec.name} is not installed in this runtime")

        def exec_module(self, module):
            raise ImportError(f"{module.__name__} is not installed in this runtime")

    sys.meta_path.insert(0, Blocker())
    try:
        import pulumi  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("the blocker does not work")

    import polars as pl

    import glacier
    from glacier import Pipeline, Provider, load_pipelines
    from glacier.config import AwsConfig, LambdaConfig, SparkConfig
    from glacier.dag import PipelineDAG
    from glacier.dag.render import to_dot, to_mermaid

    provider = Provider(config=AwsConfig(region="us-east-1"))
    lam = provider.serverless(config=LambdaConfig(memory=2048))
    spark = provider.spark(config=SparkConfig(workers=2))

    @lam.task()
    def clean(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.drop_nulls()

    @spark.task(retries=1)
    def join(sales: pl.LazyFrame, customers: pl.LazyFrame) -> pl.LazyFrame:
        return sales.join(customers, on="id")

    s, c = provider.bucket("data", "sales.parquet"), provider.bucket("data", "customers.parquet")
    cleaned = s.transform(clean).to(provider.bucket("data", "clean.parquet"))
    head = Pipeline(sales=cleaned, customers=c).transform(join).to(provider.bucket("data", "j.parquet"))
    dag = head.with_name("no_pulumi").to_dag()
    assert PipelineDAG.model_validate_json(dag.model_dump_json()) == dag
    assert dag.topological_order() == ["clean", "join"]
    assert "cylinder" in to_dot(dag) and "graph LR" in to_mermaid(dag)
    module = load_pipelines(sys.argv[1])
    assert [p.name for p in module.pipelines] == ["sales_join"]
    loaded = sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED)
    assert not loaded, loaded
    print("ok", glacier.__version__, len(dag.tasks))
    """
)


def test_definition_layer_works_without_pulumi_boto3_or_cli_libraries() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(REPO / "examples/seed_000/core_multi_source.py")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok 0.1.0 2"
