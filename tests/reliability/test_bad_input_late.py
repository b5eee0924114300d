"""Inputs that used to fail late or wrong (issue 36): one line naming the setting, argument,
file or run, exit code 2, before any MLflow run, and nothing half written.

Before: `MLOPS_PREFECT_SERVER=bogus` ended in a pydantic traceback (exit 1); a batch
with infinite values failed mid-scoring (exit 1, a FAILED run) where training refuses
the same data; `--output memory://bucket/a/../../o.csv` was accepted (exit 0, the
predictions went elsewhere); a desirability target outside its limits was accepted;
a 50 MB config was parsed for minutes; a config artifact that is not JSON said
"JSONDecodeError"; a purged run made `--reproduce` claim the model was "trained before
configs were recorded", and scoring with its version failed with "Run ... not found"; a
run deleted but not purged read as a live run in lineage and was re-run by `--reproduce`.

Each command runs in-process through its `main` (as `python -m` runs it, without the
interpreter start); the scoring cases that need a flow run use the session's Prefect
server.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient
from reliability_support import (
    files_under,
    register_champion,
    running_runs,
    store_uri,
    temp_files,
)

TRAIN, SWEEP, PREDICT, LINEAGE = "flows.train", "flows.sweep", "flows.predict", "flows.lineage"


def purge(home: Path, run_id: str) -> None:
    """Delete the run and purge it as a user would: the MLflow UI's delete, then `mlflow gc`
    (its command run in this process: a process of its own costs seconds of imports)."""
    from click.testing import CliRunner
    from mlflow.cli import gc

    MlflowClient(store_uri(home)).delete_run(run_id)
    result = CliRunner().invoke(
        gc,
        ["--backend-store-uri", store_uri(home), "--run-ids", run_id],
        env={"MLFLOW_TRACKING_URI": store_uri(home)},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("late") / "inputs"
    folder.mkdir()
    rows = 1_500  # past the first chunk the input probe reads (tasks.predict_input.PROBE_ROWS)
    batch = pd.DataFrame({"x1": [float(i % 5) for i in range(rows)], "x2": [0.5] * rows})
    batch.to_csv(folder / "batch.csv", index=False)
    batch.loc[rows - 1, "x2"] = float("inf")
    batch.to_csv(folder / "infinite_batch.csv", index=False)
    # A config padded past the size limit with a comment: valid YAML, just far too big.
    (folder / "big.yaml").write_text("data: {source: iris}\n#" + "x" * 1_200_000 + "\n")
    (folder / "target.yaml").write_text(
        "train: {data: {source: iris}}\n"
        "factors:\n"
        "  - {name: model.params.C, type: continuous, low: 0.1, high: 10}\n"
        "design: {kind: full_factorial}\n"
        "objective: {metric: accuracy}\n"
        "responses:\n"
        "  - {metric: accuracy, goal: target, target: 1.5, low: 0.5, high: 1.0}\n"
    )
    return folder


@pytest.fixture(scope="module")
def scoring_home(inputs: Path) -> Path:
    """`late` (a plain champion), `garbled` (its config artifact is not JSON), `purged`
    (its run deleted and purged by `mlflow gc`)."""
    home = inputs.parent / "home"
    register_champion(home, "late")
    register_champion(home, "garbled", config_json='{"data": {"source": "iris"')
    purge(home, register_champion(home, "purged", config_json="{}"))
    # Deleted in the MLflow UI, not purged: still in the store's trash
    MlflowClient(store_uri(home)).delete_run(register_champion(home, "deleted", config_json="{}"))
    return home


@dataclass(frozen=True)
class Case:
    module: str
    args: tuple[str, ...]
    expect: str  # the one error line matches it; `{in}` is the inputs folder
    env: dict[str, str] = field(default_factory=dict)
    flow: bool = False  # known only from the data: needs a Prefect server


PREDICT_ARGS = ("--model", "late", "--input", "{in}/batch.csv")
RUN_ID = r"[0-9a-f]{32}"
CASES = {
    "prefect-server-setting": Case(
        TRAIN,
        (),
        r"^error: MLOPS_PREFECT_SERVER: Input should be 'auto' or 'temporary'",
        env={"MLOPS_PREFECT_SERVER": "bogus"},
    ),
    "prefect-server-setting-scoring": Case(
        PREDICT,
        (*PREDICT_ARGS, "--output", "{in}/out-a.csv"),
        r"^error: MLOPS_PREFECT_SERVER: Input should be 'auto' or 'temporary'",
        env={"MLOPS_PREFECT_SERVER": "bogus"},
    ),
    "output-dot-dot": Case(
        PREDICT,
        (*PREDICT_ARGS, "--output", "memory://bucket/a/../../out.csv"),
        r"^error: arguments: output: URI must not contain '\.\.' segments",
    ),
    "config-too-big": Case(
        TRAIN,
        ("--config", "{in}/big.yaml"),
        r"^error: {in}/big\.yaml: 1\.2 MB, more than a config may hold \(1 MB\)",
    ),
    "desirability-target-outside-limits": Case(
        SWEEP,
        ("--config", "{in}/target.yaml"),
        r"^error: .*responses: accuracy: target \(1\.5\) lies outside its limits "
        r"\(low 0\.5, high 1\.0\)",
    ),
    "reproduce-unreadable-config": Case(
        TRAIN,
        ("--reproduce", "garbled/1"),
        rf"^error: --reproduce garbled/1: run {RUN_ID}: its recorded artifact "
        r"config/config\.json is unreadable \(not JSON: ",
    ),
    "lineage-unreadable-config": Case(
        LINEAGE,
        ("garbled/1",),
        rf"^error: garbled/1: run {RUN_ID}: its recorded artifact config/config\.json "
        r"is unreadable",
    ),
    "reproduce-purged-run": Case(
        TRAIN,
        ("--reproduce", "purged"),
        rf"^error: --reproduce purged/1: its MLflow run {RUN_ID} was deleted and purged "
        r"\(`mlflow gc`\): its config, metrics and artifacts are gone; train the model again "
        r"with python -m flows\.train$",
    ),
    "reproduce-deleted-run": Case(
        TRAIN,
        ("--reproduce", "deleted"),
        rf"^error: --reproduce deleted/1: its MLflow run ({RUN_ID}) was deleted \(not purged "
        r"yet\): restore it with MLFLOW_TRACKING_URI=sqlite:///\S+/mlflow\.db \S*mlflow runs "
        r"restore --run-id \1 \(`mlflow gc` would purge it for good\)$",
    ),
    "lineage-deleted-run": Case(
        LINEAGE,
        ("deleted",),
        rf"^error: deleted/1: its MLflow run ({RUN_ID}) was deleted \(not purged yet\): "
        r"restore it with MLFLOW_TRACKING_URI=\S+ \S*mlflow runs restore --run-id \1 ",
    ),
    "infinite-values-in-batch": Case(
        PREDICT,
        ("--model", "late", "--input", "{in}/infinite_batch.csv", "--output", "{in}/out-b.csv"),
        r"^error: {in}/infinite_batch\.csv: column 'x2' has infinite values "
        r"\(first at row 1500\); the model cannot score them",
        flow=True,
    ),
}


def all_runs(home: Path) -> set[str]:
    client = MlflowClient(store_uri(home))
    experiments = [e.experiment_id for e in client.search_experiments()]
    return {r.info.run_id for r in client.search_runs(experiments)} if experiments else set()


@pytest.mark.parametrize(
    "case_id",
    [pytest.param(k, marks=[pytest.mark.flow]) if c.flow else k for k, c in CASES.items()],
)
def test_late_bad_input_fails_at_once_with_one_line_and_exit_2(
    case_id: str,
    inputs: Path,
    scoring_home: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given
    case = CASES[case_id]
    if case.flow:
        request.getfixturevalue("prefect_server")
    for key in list(os.environ):
        if key.startswith(("MLOPS_", "MLFLOW_TRACKING")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("MLOPS_HOME", str(scoring_home))
    monkeypatch.setenv("MLOPS_PREFECT_SERVER", "temporary")  # no warm worker left behind
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    argv = [a.replace("{in}", str(inputs)) for a in case.args]
    runs, data = all_runs(scoring_home), files_under(scoring_home / "data")
    main = importlib.import_module(case.module).main
    # when
    code = main(argv)
    # then: one line naming what is wrong, exit 2
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert code == 2, out.err[-3000:]
    assert len(lines) == 1, out.err[-3000:]
    assert re.search(case.expect.replace("{in}", re.escape(str(inputs))), lines[0]), lines[0]
    assert "Traceback" not in out.err
    # and: nothing half written
    assert all_runs(scoring_home) == runs
    assert running_runs(scoring_home) == []
    assert files_under(scoring_home / "data") == data
    assert temp_files(scoring_home) == [] and temp_files(inputs) == []
    assert not list(inputs.glob("out*"))


@pytest.mark.flow
@pytest.mark.slow
def test_a_version_whose_run_was_purged_still_scores_without_drift(
    inputs: Path,
    scoring_home: Path,
    prefect_server: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given: `purged`'s run was deleted and purged; its logged model is still there
    for key in list(os.environ):
        if key.startswith(("MLOPS_", "MLFLOW_TRACKING")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("MLOPS_HOME", str(scoring_home))
    monkeypatch.setenv("MLOPS_PREFECT_SERVER", "temporary")
    output = inputs / "scored-by-purged.csv"
    argv = ["--model", "purged", "--input", str(inputs / "batch.csv"), "--output", str(output)]
    # when
    code = importlib.import_module(PREDICT).main(argv)
    # then: scored (before: "Run with id=... not found", exit 1), drift not measured
    out = capsys.readouterr()
    assert code == 0, out.err[-3000:]
    assert len(pd.read_csv(output)) == 1_500
    assert re.search(r"Input drift: +not measured", out.out), out.out


def test_the_lineage_of_a_version_whose_run_was_purged_names_it(
    scoring_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: `purged`'s run was deleted and purged
    for key in list(os.environ):
        if key.startswith(("MLOPS_", "MLFLOW_TRACKING")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("MLOPS_HOME", str(scoring_home))
    # when
    code = importlib.import_module(LINEAGE).main(["purged"])
    # then: its lineage, with the run named as purged (before: "MLflow run: None (None, ...")
    out = capsys.readouterr()
    assert code == 0, out.err[-3000:]
    assert re.search(rf"MLflow run: +{RUN_ID} \(deleted and purged by mlflow gc", out.out), out.out


@pytest.mark.slow
def test_the_restore_command_a_deleted_run_names_brings_its_lineage_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: a champion whose run was deleted (not purged), in a store of its own
    home = tmp_path / "home"
    run_id = register_champion(home, "binned", config_json="{}")
    MlflowClient(store_uri(home)).delete_run(run_id)
    for key in list(os.environ):
        if key.startswith(("MLOPS_", "MLFLOW_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("MLOPS_HOME", str(home))
    lineage = importlib.import_module(LINEAGE).main
    assert lineage(["binned"]) == 2
    line = capsys.readouterr().err.strip()
    command = re.search(r"restore it with (.+) \(`mlflow gc`", line)
    assert command is not None, line
    # when: the command it names is pasted into a shell
    subprocess.run(["bash", "-c", command.group(1)], check=True, capture_output=True, timeout=120)
    # then: the run is back, and so is its lineage
    assert MlflowClient(store_uri(home)).get_run(run_id).info.lifecycle_stage == "active"
    assert lineage(["binned"]) == 0
    assert run_id in capsys.readouterr().out
