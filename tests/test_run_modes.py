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


@pytest.mark.parametrize(
    ("mode", "option", "value", "expected"),
    [
        ("local", "state_dir", 5, "str | Path | None"),
        ("local", "fuse", "yes", "bool"),
        ("local", "max_workers", True, "int | None"),
        ("generate", "output_dir", 5, "str | Path"),
        ("analyze", "state_dir", 5, "str | Path | None"),
        ("cloud", "wait", "no", "bool"),
    ],
)
def test_an_option_of_the_wrong_type_is_named_before_anything_runs(
    mode: str, option: str, value: object, expected: str, tmp_path: Path
) -> None:
    with pytest.raises(DefinitionError) as info:
        _pipeline().run(mode=mode, **{option: value})
    assert info.value.problem == f"run(mode={mode!r}) of pipeline 'tidy_up' got {option}={value!r}."
    assert info.value.fix == f"pass {option} as {expected}."


def test_plain_option_values_of_the_right_kind_pass(tmp_path: Path) -> None:
    """A path object, an int or a Fraction for a float: not refused."""
    from fractions import Fraction

    from glacier.dsl.modes import _accepts

    assert _accepts("str | Path | None", tmp_path) and _accepts("str | Path | None", None)
    assert _accepts("float", 2) and _accepts("float", Fraction(1, 2)) and _accepts("int | None", 3)
    assert _accepts("bool", False) and _accepts("int", True) is False
    assert _accepts("StorageConfig | str | None", 5) is None  # not judged here: the backend does
    project = _pipeline().run(mode="generate", output_dir=tmp_path / "infra", overwrite=False)
    assert project.path == (tmp_path / "infra").resolve()


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
