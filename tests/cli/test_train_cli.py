"""`python -m flows.train` run exactly as a user would, in a subprocess.

The runs that start or leave servers run in a subprocess; the refusals and the
schema run the command's `main` in this process (`cli_support.main_in_process`):
what they print does not depend on the process, and a subprocess cost each 4-5
CPU-s of imports (that bad input exits 2 from `python -m` before Prefect and MLflow
are imported is tests/cli/test_bad_input_before_imports.py's).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cli_support import main_in_process, run_cli

from deployments.runtime.servers import stop

REPO = Path(__file__).resolve().parents[2]
# train_cli's environment in this process: the default server mode, no warm worker
DEFAULT_MODE = {"MLOPS_PREFECT_SERVER": "", "MLOPS_WARM_WORKER": "false"}


def train_cli(home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """`python -m flows.train` with the platform's default Prefect server.

    The warm worker has its own tests (test_warm_worker.py).
    """
    return run_cli(
        home, "flows.train", *args, temporary_server=False, MLOPS_WARM_WORKER="false", **extra
    )


def test_cli_trains_registers_and_prints_where_to_look(tmp_path: Path) -> None:
    # given
    home = tmp_path / "state"
    args = ("--config", "configs/iris_random_forest.yaml", "--set", "model.params.n_estimators=20")
    try:
        # when: a first run, then a second one on the same state folder
        first = train_cli(home, *args)
        second = train_cli(home, *args, "--set", "model.params.n_estimators=10")
        # then
        assert first.returncode == 0, first.stderr[-3000:]
        out = first.stdout
        assert "Training run complete." in out
        assert "MLflow run:" in out
        assert "Registered model: iris-random-forest version 1" in out
        assert "Champion:         yes" in out
        assert f"mlflow ui --backend-store-uri sqlite:///{home.resolve()}/mlflow.db" in out
        # and: the first run started the reusable local Prefect server, the second reused it
        assert "Started a local Prefect server" in first.stderr
        assert second.returncode == 0, second.stderr[-3000:]
        assert "Started a local Prefect server" not in second.stderr
        assert "Registered model: iris-random-forest version 2" in second.stdout
        # and: all local state, Prefect's included, lives under the one home folder
        assert (home / "mlflow.db").is_file()
        assert (home / "serve" / "prefect" / "prefect.db").is_file()
        assert any((home / "data" / "snapshots" / "iris").glob("*.parquet"))
        assert any((home / "mlartifacts").iterdir())
    finally:
        stopped = stop(home)
    assert stopped == ["prefect"]


def test_cli_with_temporary_prefect_server_leaves_nothing_running(tmp_path: Path) -> None:
    # given
    home = tmp_path / "state"
    # when
    result = train_cli(home, "--set", "data.source=wine", MLOPS_PREFECT_SERVER="temporary")
    # then
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Registered model: wine-logistic-regression version 1" in result.stdout
    assert (home / "prefect" / "prefect.db").is_file()
    assert not (home / "serve").exists()


def test_cli_bad_config_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    home = tmp_path / "state"
    bad = tmp_path / "bad.yaml"
    bad.write_text("split:\n  test_size: 1.5\n")
    # when: the platform's default server mode, as train_cli runs it
    code = main_in_process(monkeypatch, home, "flows.train", "--config", str(bad), **DEFAULT_MODE)
    # then
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {bad}: split.test_size: Input should be less than 1 (got 1.5)"
    )
    assert not home.exists()


def test_cli_unknown_override_key_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main_in_process(
        monkeypatch, tmp_path / "state", "flows.train", "--set", "model.nmae=svm", **DEFAULT_MODE
    )
    assert code == 2
    assert capsys.readouterr().err.strip() == "error: config: model.nmae: unknown key"


def test_cli_prints_the_config_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    code = main_in_process(
        monkeypatch, tmp_path / "state", "flows.train", "--print-schema", **DEFAULT_MODE
    )
    assert code == 0
    schema = json.loads(capsys.readouterr().out)
    assert set(schema["properties"]) == {
        "data",
        "split",
        "features",
        "model",
        "metrics",
        "gate",
        "tracking",
    }
