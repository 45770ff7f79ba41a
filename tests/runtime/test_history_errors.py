"""A run history that cannot be used (state folder a file, read-only, corrupt database) is one
clear HistoryError naming the path and the fix, in the API and on the command line."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from glacier.cli import app
from glacier.errors import HistoryError
from glacier.runner.history import History

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

_PIPELINE = """
from glacier import Provider
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path={base!r}))

@provider.local().task()
def copy(df):
    return df

out = provider.bucket("lake", "in.parquet").transform(copy).to(provider.bucket("lake", "out.parquet"))
"""


def _write(folder: Path) -> None:
    with History(folder) as history:
        history.start_run("etl", "local")


def _read(folder: Path) -> None:
    with History(folder) as history:
        history.runs()


def _raises(action: Callable[[Path], None], folder: Path, *needles: str) -> HistoryError:
    with pytest.raises(HistoryError) as caught:
        action(folder)
    error = caught.value
    assert "\n" not in str(error), str(error)
    for needle in needles:
        assert needle in str(error), str(error)
    assert error.fix, "a HistoryError carries its fix"
    return error


def test_state_dir_that_is_a_file(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.write_text("not a folder")
    for action in (_write, _read):
        error = _raises(action, state, f"{state} is a file, not a folder")
        assert "--state-dir" in (error.fix or "")
    nested = state / "deeper"
    _raises(_write, nested, f"{nested} cannot be created: {state} is a file")
    assert state.read_text() == "not a folder"


def test_history_sqlite_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "history.sqlite").mkdir()
    for action in (_write, _read):
        error = _raises(action, tmp_path, f"{tmp_path / 'history.sqlite'} is a folder")
        assert "move it away" in (error.fix or "")


def test_database_that_is_not_a_database(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    db.write_text("this is a text file, not SQLite\n" * 200)
    for action in (_write, _read):
        error = _raises(action, tmp_path, str(db), "not a readable SQLite database", "file is not a database")
        assert "move it away" in (error.fix or "") and "creates a new history" in (error.fix or "")


def test_malformed_database(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    shutil.copy(FIXTURES / "history_v1.sqlite", db)
    data = bytearray(db.read_bytes())
    data[4096 : 4096 * 5] = b"\xab\x00\xab" * (4096 * 4 // 3) + b"\xab"  # the tables' pages
    db.write_bytes(bytes(data))
    for action in (_read, _write):
        _raises(action, tmp_path, str(db), "not a readable SQLite database", "malformed")
    # Once moved away, the next run starts a new history.
    db.rename(tmp_path / "history.sqlite.broken")
    _write(tmp_path)
    assert len(History(tmp_path).runs()) == 1


def _can_create_in(folder: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


@contextmanager
def _read_only(folder: Path) -> Iterator[None]:
    """Make a folder read-only for this process. chmod does not stop root, so as root the
    immutable attribute is used (ext4 and most local file systems); skipped where neither
    works."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        undo = ["chmod", "755", str(folder)]
    elif (
        shutil.which("chattr")
        and subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
    ):
        undo = ["chattr", "-i", str(folder)]
    else:
        pytest.skip("running as root without chattr +i: no way to make a folder read-only here")
    try:
        if _can_create_in(folder):
            pytest.skip(f"{folder} still accepts new files")
        yield
    finally:
        subprocess.run(undo, check=True)


def test_read_only_state_dir(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with _read_only(empty):
        error = _raises(_write, empty, f"run history folder {empty} is read-only")
        assert f"chmod u+w {empty}" in (error.fix or "")
        _read(empty)  # nothing to read is not an error
        with History(empty) as history:
            assert history.runs() == []
        blocked = empty / "sub"
        _raises(_write, blocked, f"folder {empty} is read-only", f"{blocked} cannot be created there")

    # A history written earlier can still be read from a folder that became read-only.
    kept = tmp_path / "kept"
    with History(kept) as history:
        run_id = history.start_run("etl", "local")
        history.finish_run(run_id, "succeeded", 1.0)
    with _read_only(kept):
        with History(kept) as history:
            assert [r.run_id for r in history.runs()] == [run_id]
        _raises(_write, kept, f"{kept} is read-only")


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    pipeline = tmp_path / "pipeline.py"
    pipeline.write_text(_PIPELINE.format(base=str(tmp_path / "data")))
    state_file = tmp_path / "state-file"
    state_file.write_text("x")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "history.sqlite").write_text("garbage " * 1000)
    cases = {
        "history, state dir a file": (["history", "--state-dir", str(state_file)], "is a file, not a folder"),
        "run, state dir a file": (
            ["run", str(pipeline), "--state-dir", str(state_file)],
            "is a file, not a folder",
        ),
        "history, corrupt": (["history", "--state-dir", str(corrupt)], "not a readable SQLite database"),
        "run, corrupt": (
            ["run", str(pipeline), "--state-dir", str(corrupt)],
            "not a readable SQLite database",
        ),
    }
    for name, (args, needle) in cases.items():
        code, output = _cli(*args)
        assert code == 1, (name, output)
        assert output.startswith("Error: ") and needle in output and "Fix: " in output, (name, output)
        assert "Traceback" not in output, (name, output)
