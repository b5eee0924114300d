"""Bad input: one line naming the field or file, exit code 2, nothing left half written.

Config-level mistakes fail before Prefect starts: every one goes through its
command line's own `main` in-process (a subprocess each would cost seconds),
and one per command line also through `python -m` in a subprocess. Data-level
mistakes need a flow run: every one is checked in-process under the Prefect
test server, and two also through `python -m` with Prefect's temporary server,
as a user gets it.
"""

from __future__ import annotations

import importlib
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient
from reliability_support import (
    files_under,
    prefect_exit_notice,
    register_champion,
    run_cli,
    running_runs,
    store_uri,
    temp_files,
)

from flows.config.train import load_train_config
from flows.runs.frameworks import train_sklearn
from libs.errors import InputError

TINY_SWEEP = """
train:
  data: {source: iris, max_rows: 60}
  model: {name: logistic_regression}
factors:
  - {name: model.params.C, type: continuous, scale: log, low: 0.01, high: 10}
design: {kind: full_factorial}
objective: {metric: accuracy}
"""


def write_inputs(folder: Path) -> Path:
    """The bad files of the matrix, each named for what is wrong with it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "malformed.yaml").write_text("data:\n  source: [iris\nsplit: {test_size: 0.2\n")
    (folder / "unknown_key.yaml").write_text("tracking:\n  experimnt: typo\n")
    (folder / "wrong_type.yaml").write_text("split:\n  seed: forty-two\n")
    (folder / "zero_factors.yaml").write_text(
        TINY_SWEEP.replace(
            "  - {name: model.params.C, type: continuous, scale: log, low: 0.01, high: 10}\n", ""
        ).replace("factors:\n", "factors: []\n")
    )
    (folder / "inverted_bounds.yaml").write_text(
        TINY_SWEEP.replace("low: 0.01, high: 10", "low: 10, high: 0.01")
    )
    (folder / "tiny_sweep.yaml").write_text(TINY_SWEEP)
    (folder / "unknown_design.yaml").write_text(TINY_SWEEP.replace("full_factorial", "taguchi"))
    (folder / "sweep_malformed.yaml").write_text(TINY_SWEEP.replace("factors:", "factors: ["))
    rows = 40
    frame = pd.DataFrame(
        {
            "x1": range(rows),
            "x2": [i % 7 for i in range(rows)],
            "label": [i % 2 for i in range(rows)],
        }
    )
    (folder / "empty_table.csv").write_text("x1,x2,label\n")
    frame.drop(columns=["label"]).to_csv(folder / "no_target.csv", index=False)
    frame.assign(label=1).to_csv(folder / "one_class.csv", index=False)
    text = frame.astype({"x2": object})
    text.loc[5, "x2"] = "seven"
    text.to_csv(folder / "non_numeric.csv", index=False)
    frame.to_parquet(folder / "whole.parquet", index=False)
    data = (folder / "whole.parquet").read_bytes()
    (folder / "truncated.parquet").write_bytes(data[: len(data) // 2])
    (folder / "truncated_batch.parquet").write_bytes(data[: len(data) // 2])
    (folder / "batch.csv").write_text("x1,x2\n1,2\n")
    return folder


@dataclass(frozen=True)
class Case:
    """One bad input to a command line; `{in}` stands for the inputs folder."""

    module: str
    args: tuple[str, ...]
    expect: str  # a regular expression the error line matches: it names the field or file
    prefect: bool = False  # fails inside a flow run (data-level), after Prefect starts
    subprocess: bool = False  # also run as `python -m ...` in a subprocess

    def argv(self, inputs: Path) -> list[str]:
        return [a.replace("{in}", str(inputs)) for a in self.args]

    def pattern(self, inputs: Path) -> str:
        return self.expect.replace("{in}", re.escape(str(inputs)))


TRAIN, SWEEP, PREDICT = "flows.train", "flows.sweep", "flows.predict"
CSV_ON = ("--set", "data.target=label", "--set", "tracking.model_name=bad-input")
BATCH = ("--model", "bad-input", "--input", "{in}/batch.csv")
CASES = {
    # training config
    "train-malformed-yaml": Case(
        TRAIN,
        ("--config", "{in}/malformed.yaml"),
        r"{in}/malformed\.yaml: invalid YAML at line \d+",
        subprocess=True,
    ),
    "train-unknown-key": Case(
        TRAIN, ("--config", "{in}/unknown_key.yaml"), r"tracking\.experimnt: unknown key"
    ),
    "train-unknown-override-key": Case(
        TRAIN, ("--set", "gate.treshold=0.9"), r"gate\.treshold: unknown key"
    ),
    "train-wrong-type": Case(TRAIN, ("--config", "{in}/wrong_type.yaml"), r"split\.seed: "),
    "train-wrong-type-override": Case(
        TRAIN, ("--set", "tracking.register_model=maybe"), r"tracking\.register_model: "
    ),
    "train-test-fraction-1.5": Case(
        TRAIN, ("--set", "split.test_size=1.5"), r"split\.test_size: .*less than 1"
    ),
    "train-negative-epochs": Case(
        TRAIN,
        ("--set", "model.framework=tensorflow", "--set", "model.epochs=-3"),
        r"model\.(tensorflow\.)?epochs: .*greater than or equal to 1",
    ),
    "train-max-rows-too-small": Case(TRAIN, ("--set", "data.max_rows=3"), r"data\.max_rows: "),
    "train-unknown-dataset": Case(
        TRAIN, ("--set", "data.source=mnist"), r"data\.source: unknown dataset 'mnist'"
    ),
    "train-unknown-model": Case(
        TRAIN, ("--set", "model.name=xgboost"), r"model\.(sklearn\.)?name: .*'xgboost'"
    ),
    "train-unknown-framework": Case(TRAIN, ("--set", "model.framework=jax"), r"model: .*framework"),
    "train-missing-config-file": Case(
        TRAIN, ("--config", "{in}/absent.yaml"), r"config file not found: {in}/absent\.yaml"
    ),
    "train-missing-data-file": Case(
        TRAIN,
        ("--set", "data.source={in}/absent.csv", *CSV_ON),
        r"data\.source: file not found: {in}/absent\.csv",
    ),
    "train-unsupported-table-format": Case(
        TRAIN, ("--set", "data.source={in}/table.xlsx", *CSV_ON), r"data\.source: .*table\.xlsx"
    ),
    "train-uri-traversal": Case(
        TRAIN,
        ("--set", "data.source=s3://bucket/a/../b.csv", *CSV_ON),
        r"data\.source: URI must not contain '\.\.' segments: s3://bucket/a/\.\./b\.csv",
    ),
    "train-file-without-target-field": Case(
        TRAIN, ("--set", "data.source={in}/no_target.csv"), r"target: required"
    ),
    # sweep config
    "sweep-no-config": Case(SWEEP, (), r"--config: a sweep needs a config file"),
    "sweep-malformed-yaml": Case(
        SWEEP, ("--config", "{in}/sweep_malformed.yaml"), r"sweep_malformed\.yaml: invalid YAML"
    ),
    "sweep-zero-factors": Case(
        SWEEP, ("--config", "{in}/zero_factors.yaml"), r"factors: at least one factor"
    ),
    "sweep-inverted-bounds": Case(
        SWEEP,
        ("--config", "{in}/inverted_bounds.yaml"),
        r"inverted_bounds\.yaml: factors\.0: factor 'model\.params\.C': "
        r"low \(10\.0\) must be below high \(0\.01\)",
        subprocess=True,
    ),
    "sweep-unknown-design": Case(
        SWEEP, ("--config", "{in}/unknown_design.yaml"), r"design: .*'taguchi'"
    ),
    "sweep-unknown-objective-key": Case(
        SWEEP,
        ("--config", "{in}/tiny_sweep.yaml", "--set", "objective.metrc=f1"),
        r"objective\.metrc: unknown key",
    ),
    # batch scoring arguments (a registered champion 'bad-input' exists in the home)
    "predict-zero-chunk-rows": Case(
        PREDICT, (*BATCH, "--output", "{in}/out-chunk.csv", "--chunk-rows", "0"), r"chunk_rows: "
    ),
    "predict-unknown-version": Case(
        PREDICT,
        ("--model", "bad-input/7", "--input", "{in}/batch.csv", "--output", "{in}/out-ver.csv"),
        r"model: registered model 'bad-input' has no version 7",
    ),
    "predict-missing-input": Case(
        PREDICT,
        ("--model", "bad-input", "--input", "{in}/absent.csv", "--output", "{in}/out-miss.csv"),
        r"file not found: {in}/absent\.csv",
        subprocess=True,
    ),
    "predict-unsupported-output": Case(
        PREDICT, (*BATCH, "--output", "{in}/out.txt"), r"{in}/out\.txt: unsupported table format"
    ),
    # data-level: these fail inside the flow run (the in-process matrix below has them all)
    "train-corrupt-parquet": Case(
        TRAIN,
        ("--set", "data.source={in}/truncated.parquet", *CSV_ON),
        r"{in}/truncated\.parquet: cannot parse Parquet",
        prefect=True,
        subprocess=True,
    ),
    "predict-corrupt-parquet": Case(
        PREDICT,
        (
            "--model",
            "bad-input",
            "--input",
            "{in}/truncated_batch.parquet",
            "--output",
            "{in}/out-corrupt.csv",
        ),
        r"{in}/truncated_batch\.parquet",
        prefect=True,
        subprocess=True,
    ),
}
QUICK = [k for k, c in CASES.items() if not c.prefect]
SUBPROCESS = [k for k, c in CASES.items() if c.subprocess]


@dataclass(frozen=True)
class Outcome:
    home: Path
    code: int
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The bad files, and a home holding one registered champion for the scoring cases."""
    root = tmp_path_factory.mktemp("bad-input")
    inputs = write_inputs(root / "inputs")
    predict_home = root / "predict-home"
    register_champion(predict_home, "bad-input")
    return inputs, predict_home


def home_for(case_id: str, inputs: Path, predict_home: Path) -> Path:
    return predict_home if CASES[case_id].module == PREDICT else inputs.parent / f"home-{case_id}"


@pytest.fixture(scope="module")
def subprocess_outcomes(bad_inputs: tuple[Path, Path]) -> dict[str, Outcome]:
    """The subprocess cases, run side by side: a Prefect start costs seconds each."""
    inputs, predict_home = bad_inputs

    def run(case_id: str) -> Outcome:
        home = home_for(case_id, inputs, predict_home)
        done = run_cli(home, CASES[case_id].module, *CASES[case_id].argv(inputs))
        return Outcome(home, done.returncode, done.stdout, done.stderr)

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(SUBPROCESS, pool.map(run, SUBPROCESS), strict=True))


def check_outcome(case_id: str, outcome: Outcome, inputs: Path) -> None:
    """Exit code 2, one `error:` line naming the field or file, and nothing left behind."""
    case = CASES[case_id]
    lines = [line for line in outcome.stderr.strip().splitlines() if not prefect_exit_notice(line)]
    assert outcome.code == 2, outcome.stderr[-3000:]
    assert lines and lines[-1].startswith("error: "), outcome.stderr[-3000:]
    assert [line for line in lines if line.startswith("error: ")] == lines[-1:]
    assert re.search(case.pattern(inputs), lines[-1]), lines[-1]
    assert "Traceback" not in outcome.stderr
    assert "complete." not in outcome.stdout and "Batch scored." not in outcome.stdout
    # and: no MLflow run left RUNNING, no temp file, no output
    assert running_runs(outcome.home) == []
    assert temp_files(outcome.home) == []
    assert temp_files(inputs) == []
    assert not list(inputs.glob("out*"))
    if case.module != PREDICT and not case.prefect:
        # A config error fails before anything exists: not even the home folder.
        assert not outcome.home.exists()
    if case.module == TRAIN and case.prefect:
        # No data snapshot and no MLflow run for a table that never passed its checks.
        assert files_under(outcome.home / "data") == []
        assert not (outcome.home / "mlflow.db").exists()


@pytest.mark.parametrize("case_id", QUICK)
def test_bad_input_to_the_command_line_exits_2_with_one_line(
    case_id: str,
    bad_inputs: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The command line's own `main`, in-process: a subprocess each would cost 2-5 s."""
    # given
    inputs, predict_home = bad_inputs
    case = CASES[case_id]
    home = home_for(case_id, inputs, predict_home)
    for key in list(os.environ):
        if key.startswith(("MLOPS_", "MLFLOW_TRACKING")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("MLOPS_HOME", str(home))
    monkeypatch.setenv("MLOPS_PREFECT_SERVER", "temporary")
    main = importlib.import_module(case.module).main
    # when
    code = main(case.argv(inputs))
    # then
    out = capsys.readouterr()
    check_outcome(case_id, Outcome(home, code, out.out, out.err), inputs)


@pytest.mark.parametrize("case_id", SUBPROCESS)
def test_bad_input_to_python_m_exits_2_with_one_line(
    case_id: str, bad_inputs: tuple[Path, Path], subprocess_outcomes: dict[str, Outcome]
) -> None:
    # given: `python -m flows.<cli> ...` with a temporary Prefect server, as a user runs it
    inputs, _ = bad_inputs
    # when
    outcome = subprocess_outcomes[case_id]
    # then
    check_outcome(case_id, outcome, inputs)


@pytest.mark.parametrize("case_id", [k for k in SUBPROCESS if CASES[k].prefect])
def test_error_line_is_the_last_line_on_stderr_with_a_temporary_server(
    case_id: str, subprocess_outcomes: dict[str, Outcome]
) -> None:
    # given: a data-level error, so Prefect's temporary server was started
    outcome = subprocess_outcomes[case_id]
    # when
    last = outcome.stderr.strip().splitlines()[-1]
    # then
    assert last.startswith("error: "), last


def test_scoring_errors_leave_the_registry_as_it_was(
    bad_inputs: tuple[Path, Path], subprocess_outcomes: dict[str, Outcome]
) -> None:
    # given: the home every scoring case ran against
    _, predict_home = bad_inputs
    client = MlflowClient(store_uri(predict_home))
    # when
    versions = client.search_model_versions("name = 'bad-input'")
    inference = client.get_experiment_by_name("inference")
    # then: still one version, and any inference run ended FAILED, none RUNNING
    assert [str(v.version) for v in versions] == ["1"]
    if inference is not None:
        runs = client.search_runs([inference.experiment_id])
        assert {r.info.status for r in runs} <= {"FAILED"}


# --- data-level cases in-process, under the Prefect test server ---------------------------

DATA_CASES = {
    "empty-table": ("empty_table.csv", ["data.target=label"], "empty_table.csv: table is empty"),
    "zero-byte-file": ("zero_bytes.csv", ["data.target=label"], "zero_bytes.csv: table is empty"),
    "table-without-target": (
        "no_target.csv",
        ["data.target=label"],
        "data.target: column 'label' not found in",
    ),
    "target-with-one-class": (
        "one_class.csv",
        ["data.target=label"],
        "one_class.csv: target column 'label' has a single class",
    ),
    "non-numeric-in-numeric-column": (
        "non_numeric.csv",
        ["data.target=label", "features.numeric.columns=[x1,x2]"],
        "non_numeric.csv: column 'x2' failed check 'is numeric'",
    ),
    "declared-column-missing": (
        "whole.parquet",
        ["data.target=label", "features.numeric.columns=[x1,x9]"],
        "features.numeric.columns: column 'x9' not found in",
    ),
    "corrupt-parquet": (
        "truncated.parquet",
        ["data.target=label"],
        "truncated.parquet: cannot parse Parquet",
    ),
    # The table is fine here: the gate asks for a metric classification does not compute
    # (with a model for either task, only the data says which task it is).
    "gate-metric-not-computed": (
        "gate.parquet",
        ["data.target=label", "model.name=random_forest", "gate.metric=r2"],
        "gate.parquet: target 'label' makes this a classification task, "
        "but gate.metric: 'r2' is not computed for classification",
    ),
}


@pytest.fixture(scope="module")
def data_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = write_inputs(tmp_path_factory.mktemp("bad-data"))
    (folder / "zero_bytes.csv").write_bytes(b"")
    (folder / "gate.parquet").write_bytes((folder / "whole.parquet").read_bytes())
    return folder


@pytest.mark.flow
@pytest.mark.parametrize("case_id", list(DATA_CASES))
def test_bad_data_fails_the_flow_with_one_line_and_writes_nothing(
    case_id: str, data_inputs: Path, shared_store: Path, model_name: str
) -> None:
    # given
    file, overrides, expect = DATA_CASES[case_id]
    source = data_inputs / file
    config = load_train_config(
        None, [f"data.source={source}", f"tracking.model_name={model_name}", *overrides]
    )
    runs_before = running_runs(shared_store)
    # when
    with pytest.raises(InputError) as caught:
        train_sklearn(config)
    # then: one line naming the file (or the field) and what is wrong
    message = str(caught.value)
    assert expect in message
    assert "\n" not in message
    # and: no snapshot of the bad table, no temp file, no run left RUNNING, no version
    assert files_under(shared_store / "data" / "snapshots" / source.stem) == []
    assert temp_files(shared_store) == []
    assert running_runs(shared_store) == runs_before == []
    client = MlflowClient(store_uri(shared_store))
    assert client.search_model_versions(f"name = '{model_name}'") == []
