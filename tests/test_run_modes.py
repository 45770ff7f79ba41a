"""``.run(mode=...)`` hands the compiled pipeline to its backend, and every mode rejects an
option it does not take with one clear DefinitionError (naming it and the options it takes)
before doing anything."""

from __future__ import annotations

import inspect
from pathlib import Path

import polars as pl
import pytest

from glacier import Provider
from glacier.config import AwsConfig
from glacier.dag.contract import CompiledPipeline
from glacier.dsl.modes import _BACKENDS, MODES, run_mode
from glacier.errors import DefinitionError

provider = Provider(config=AwsConfig(region="us-east-1"))


@provider.serverless().task()
def tidy(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


def _pipeline():  # type: ignore[no-untyped-def]
    raw = provider.bucket("lake", "raw.parquet")
    return raw.transform(tidy).to(provider.bucket("lake", "tidy.parquet")).with_name("tidy_up")


def test_generate_rejects_a_misspelt_option_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError) as info:
        _pipeline().run(mode="generate", output_dir=tmp_path / "infra", overwrit=True)
    assert (
        str(info.value.problem)
        == "run(mode='generate') of pipeline 'tidy_up' got unknown option(s) overwrit."
    )
    assert info.value.fix == "mode 'generate' takes: output_dir, project_name, overwrite."
    assert not (tmp_path / "infra").exists()


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_rejects_an_unknown_option(mode: str, tmp_path: Path) -> None:
    with pytest.raises(
        DefinitionError, match=rf"run\(mode='{mode}'\) of pipeline 'tidy_up' got unknown option\(s\) typo"
    ):
        _pipeline().run(mode=mode, typo=1)


@pytest.mark.parametrize("mode", MODES)
def test_every_backend_takes_the_compiled_pipeline_first(mode: str) -> None:
    module, name = _BACKENDS[mode]
    backend = getattr(__import__(module, fromlist=[name]), name)
    first = next(iter(inspect.signature(backend).parameters.values()))
    assert "CompiledPipeline" in str(first.annotation)  # typed: the contract, not Any
    assert not any(p.kind is p.VAR_KEYWORD for p in inspect.signature(backend).parameters.values())


def test_analyze_mode_gets_the_compiled_pipeline() -> None:
    analysis = run_mode(_pipeline().compile(), "analyze", history={"tidy": {"seconds": 1.0, "bytes": 10}})
    assert analysis.pipeline == "tidy_up"
    assert analysis.critical_path.tasks == ("tidy",)
    assert isinstance(_pipeline().compile(), CompiledPipeline)
