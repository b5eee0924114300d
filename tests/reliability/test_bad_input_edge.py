"""Bad input fails fast, before any work: one line naming the field or file, exit code 2,
no MLflow run, no snapshot, no process left behind.

Each class of bad input runs in the modes a user meets it in:

- default: the command line's own `main`, in-process, with Prefect's temporary
  server (config-level inputs fail before Prefect starts, so in-process costs
  nothing); data-level inputs, which need a flow run, run in-process under the
  Prefect test server, and one through `python -m` with Prefect's temporary
  server as well;
- served: `python -m` against the local Prefect server a first run started
  (`MLOPS_PREFECT_SERVER=auto`, warm worker off), one case per distinct path;
- warm: `python -m` handed to the warm worker that first run left, the same cases;
- scoring: `python -m flows.predict` / `batch_predict` with a registered champion.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient
from reliability_support import (
    REPO,
    files_under,
    prefect_exit_notice,
    register_champion,
    running_runs,
    store_uri,
    temp_files,
)

from flows.config.predict import PredictConfig
from flows.config.train import load_train_config
from flows.runs.frameworks import train_sklearn
from libs.errors import InputError

TRAIN, SWEEP, PREDICT = "flows.train", "flows.sweep", "flows.predict"
CSV = ("--set", "data.target=label", "--set", "tracking.model_name=edge")
# No AWS credentials from anywhere: the user's files, the environment, an instance role.
NO_AWS = {
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
}


def write_inputs(folder: Path) -> Path:
    """The bad files, each named for what is wrong with it."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = 40
    frame = pd.DataFrame(
        {
            "x1": range(rows),
            "x2": [float(i % 7) for i in range(rows)],
            "label": [i % 2 for i in range(rows)],
        }
    )
    frame.to_csv(folder / "labels.csv", index=False)
    body = "".join(f"{i},{i % 2},{i % 7},{i % 2}\n" for i in range(rows))
    (folder / "dup_target.csv").write_text("x1,label,x2,label\n" + body)
    (folder / "dup_feature.csv").write_text("x1,x2,label,x1\n" + body)
    infinite = frame.copy()
    infinite.loc[[3, 9], "x2"] = float("inf")
    infinite.to_csv(folder / "infinite.csv", index=False)
    frame.head(3).to_csv(folder / "three_rows.csv", index=False)
    lonely = frame.copy()
    lonely.loc[0, "label"] = 7  # a class with one row: it can be trained on or tested, not both
    lonely.to_csv(folder / "lonely_class.csv", index=False)
    frame.to_csv(folder / "...csv", index=False)
    (folder / "binary.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    (folder / "a_file").write_text("not a folder\n")
    (folder / "batch_dup.csv").write_text("x1,x2,x1\n1,2,3\n")
    (folder / "batch.csv").write_text("x1,x2\n1,2\n")
    (folder / "big_design.yaml").write_text(
        "train: {data: {source: iris}}\n"
        "factors:\n"
        "  - {name: model.params.C, type: continuous, low: 0.1, high: 10}\n"
        "  - {name: model.params.tol, type: continuous, low: 0.0001, high: 0.01}\n"
        "design: {kind: full_factorial, levels: 1000}\n"
        "objective: {metric: accuracy}\n"
    )
    (folder / "objective_vs_data.yaml").write_text(
        f"train: {{data: {{source: {folder / 'labels.csv'}, target: label}}, "
        "model: {name: random_forest}}\n"
        "factors:\n"
        "  - {name: model.params.n_estimators, type: integer, low: 5, high: 10}\n"
        "design: {kind: full_factorial}\n"
        "objective: {metric: r2}\n"
    )
    (folder / "objective_vs_model.yaml").write_text(
        f"train: {{data: {{source: {folder / 'labels.csv'}, target: label}}, "
        "model: {name: ridge}}\n"
        "factors:\n"
        "  - {name: model.params.alpha, type: continuous, low: 0.1, high: 10}\n"
        "design: {kind: full_factorial}\n"
        "objective: {metric: accuracy}\n"
    )
    return folder


@dataclass(frozen=True)
class Case:
    """One bad input; `{in}` stands for the inputs folder in args, env and the pattern."""

    module: str
    args: tuple[str, ...]
    expect: str  # a regular expression the one error line matches: it names the field or file
    env: dict[str, str] = field(default_factory=dict)
    data: bool = False  # known only from the data: fails inside the flow run

    def argv(self, inputs: Path) -> list[str]:
        return [a.replace("{in}", str(inputs)) for a in self.args]

    def environ(self, inputs: Path) -> dict[str, str]:
        return {k: v.replace("{in}", str(inputs)) for k, v in self.env.items()}

    def pattern(self, inputs: Path) -> str:
        return self.expect.replace("{in}", re.escape(str(inputs)))


CASES = {
    # --- known before any data is read ---
    "param-out-of-range": Case(TRAIN, ("--set", "model.params.C=-1"), r"model\.params\.C: "),
    "param-unknown": Case(
        TRAIN, ("--set", "model.params.depth=3"), r"model\.params\.depth: not a parameter"
    ),
    "model-vs-task": Case(
        TRAIN,
        ("--set", "model.name=ridge"),
        r"model\.name: 'ridge' does not support classification",
    ),
    "gate-vs-task": Case(
        TRAIN, ("--set", "gate.metric=r2"), r"gate\.metric: 'r2' is not computed for classification"
    ),
    "target-as-feature": Case(
        TRAIN,
        ("--set", "features.numeric.columns=[mean_radius,target]"),
        r"features\.numeric\.columns: lists 'target', the target column",
    ),
    "binary-config": Case(
        TRAIN, ("--config", "{in}/binary.yaml"), r"{in}/binary\.yaml: not a text file"
    ),
    "http-source": Case(
        TRAIN,
        ("--set", "data.source=http://127.0.0.1:9/data.csv", *CSV),
        r"data\.source: unsupported scheme 'http://'",
    ),
    "ftp-source": Case(
        TRAIN,
        ("--set", "data.source=ftp://127.0.0.1/data.csv", *CSV),
        r"data\.source: unsupported scheme 'ftp://'",
    ),
    "dots-file-name": Case(
        TRAIN,
        ("--set", "data.source={in}/...csv", *CSV),
        r"data\.source: file name of {in}/\.\.\.csv gives no dataset name",
    ),
    "tracking-uri-scheme": Case(
        TRAIN,
        (),
        r"MLOPS_TRACKING_URI: unsupported tracking URI scheme 'bogus'",
        env={"MLOPS_TRACKING_URI": "bogus://nowhere"},
    ),
    "home-is-a-file": Case(
        TRAIN, (), r"MLOPS_HOME: {in}/a_file is a file", env={"MLOPS_HOME": "{in}/a_file"}
    ),
    "sweep-design-too-big": Case(
        SWEEP,
        ("--config", "{in}/big_design.yaml"),
        r"design: full_factorial over these factors has 1000000 points, more than the limit",
    ),
    "sweep-objective-vs-data": Case(
        SWEEP,
        ("--config", "{in}/objective_vs_data.yaml"),
        r"objective\.metric: 'r2' is a regression metric, but the target 'label' of "
        r"{in}/labels\.csv makes this a classification task",
    ),
    "sweep-objective-vs-model": Case(
        SWEEP,
        ("--config", "{in}/objective_vs_model.yaml"),
        r"objective\.metric: 'accuracy' is a classification metric, "
        r"but model\.name: 'ridge' does not support classification",
    ),
    # --- known only from the data: before the snapshot and the MLflow run ---
    "duplicate-target": Case(
        TRAIN,
        ("--set", "data.source={in}/dup_target.csv", *CSV),
        r"{in}/dup_target\.csv: duplicate column name 'label' \(columns 2 and 4\)",
        data=True,
    ),
    "duplicate-feature": Case(
        TRAIN,
        ("--set", "data.source={in}/dup_feature.csv", *CSV),
        r"{in}/dup_feature\.csv: duplicate column name 'x1' \(columns 1 and 4\)",
        data=True,
    ),
    "infinite-values": Case(
        TRAIN,
        ("--set", "data.source={in}/infinite.csv", *CSV),
        r"{in}/infinite\.csv: column 'x2' has 2 infinite value",
        data=True,
    ),
    "drop-missing-column": Case(
        TRAIN,
        ("--set", "data.source={in}/labels.csv", "--set", "features.drop=[nope]", *CSV),
        r"{in}/labels\.csv: features\.drop: column 'nope' not found",
        data=True,
    ),
    "model-vs-data-task": Case(
        TRAIN,
        ("--set", "data.source={in}/labels.csv", "--set", "model.name=ridge", *CSV),
        r"{in}/labels\.csv: target 'label' makes this a classification task, "
        r"but model\.name: 'ridge' does not support classification",
        data=True,
    ),
    "gate-vs-data-task": Case(
        TRAIN,
        (
            "--set",
            "data.source={in}/labels.csv",
            "--set",
            "model.name=random_forest",
            "--set",
            "gate.metric=rmse",
            *CSV,
        ),
        r"{in}/labels\.csv: target 'label' makes this a classification task, "
        r"but gate\.metric: 'rmse' is not computed",
        data=True,
    ),
    "three-rows": Case(
        TRAIN,
        ("--set", "data.source={in}/three_rows.csv", *CSV),
        r"{in}/three_rows\.csv: 3 rows; training needs at least 10",
        data=True,
    ),
    "class-with-one-row": Case(
        TRAIN,
        ("--set", "data.source={in}/lonely_class.csv", *CSV),
        r"{in}/lonely_class\.csv: target column 'label' has 1 class\(es\) with a single row",
        data=True,
    ),
    "s3-source-without-credentials": Case(
        TRAIN,
        ("--set", "data.source=s3://no-such-bucket/data.csv", *CSV),
        r"s3://no-such-bucket/data\.csv: no usable credentials",
        env=NO_AWS,
        data=True,
    ),
    # --- scoring (a champion 'edge' is registered in the scoring home) ---
    "predict-tracking-uri-scheme": Case(
        PREDICT,
        ("--model", "edge", "--input", "{in}/batch.csv", "--output", "{in}/out-a.csv"),
        r"MLOPS_TRACKING_URI: unsupported tracking URI scheme 'bogus'",
        env={"MLOPS_TRACKING_URI": "bogus://nowhere"},
    ),
    "predict-home-is-a-file": Case(
        PREDICT,
        ("--model", "edge", "--input", "{in}/batch.csv", "--output", "{in}/out-b.csv"),
        r"MLOPS_HOME: {in}/a_file is a file",
        env={"MLOPS_HOME": "{in}/a_file"},
    ),
    "predict-http-input": Case(
        PREDICT,
        ("--model", "edge", "--input", "http://127.0.0.1:9/b.csv", "--output", "{in}/out-e.csv"),
        r"input: unsupported scheme 'http://'",
    ),
    "predict-duplicate-columns": Case(
        PREDICT,
        ("--model", "edge", "--input", "{in}/batch_dup.csv", "--output", "{in}/out-c.csv"),
        r"{in}/batch_dup\.csv: duplicate column name 'x1' \(columns 1 and 3\)",
        data=True,
    ),
    "predict-s3-without-credentials": Case(
        PREDICT,
        ("--model", "edge", "--input", "s3://no-such-bucket/b.csv", "--output", "{in}/out-d.csv"),
        r"s3://no-such-bucket/b\.csv: no usable credentials",
        env=NO_AWS,
        data=True,
    ),
}
EDGE = [k for k, c in CASES.items() if not c.data]
DATA_TRAIN = [k for k, c in CASES.items() if c.data and c.module == TRAIN]
DATA_PREDICT = [k for k, c in CASES.items() if c.data and c.module == PREDICT]
# Through `python -m` with Prefect's own temporary server (the only such data-level case in
# the suite): a data error inside the flow run, exit 2, and the temporary server stopped.
# Training and scoring share that path (`run_command` around `local_prefect` and
# `run_in_flow`), and a temporary server costs about 30 CPU-s, so one case runs it; the
# scoring flow's own data error is checked in-process below and through `python -m` in
# test_bad_input.py.
SUBPROCESS = ["duplicate-target"]
# Against a served Prefect and through the warm worker, one case per distinct path:
SERVED = [
    "param-unknown",  # the config, checked in `main` before any flow run
    "tracking-uri-scheme",  # the environment: in warm mode a changed setup, its own process
    "duplicate-target",  # the data, checked inside the flow run on the served server
]


@dataclass(frozen=True)
class Outcome:
    home: Path
    code: int
    stdout: str
    stderr: str


@dataclass
class Before:
    """What exists before a command: the check is that none of it grew."""

    runs: set[str]
    snapshots: list[Path]
    processes: set[int]

    @classmethod
    def of(cls, home: Path) -> Before:
        return cls(all_runs(home), files_under(home / "data"), home_processes(home))


def all_runs(home: Path) -> set[str]:
    """Every MLflow run in the home's store, whatever its status."""
    if not (home / "mlflow.db").is_file():
        return set()
    client = MlflowClient(store_uri(home))
    experiments = [e.experiment_id for e in client.search_experiments()]
    if not experiments:
        return set()
    return {r.info.run_id for r in client.search_runs(experiments)}


def home_processes(home: Path) -> set[int]:
    """Processes whose environment names this home (a server, a worker, a left-over child)."""
    marker = f"MLOPS_HOME={home}".encode()
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def check_outcome(case_id: str, outcome: Outcome, inputs: Path, before: Before) -> None:
    """Exit 2, one `error:` line naming the field or file; no run, snapshot or process."""
    case = CASES[case_id]
    lines = [line for line in outcome.stderr.strip().splitlines() if not prefect_exit_notice(line)]
    assert outcome.code == 2, outcome.stderr[-3000:]
    assert lines and lines[-1].startswith("error: "), outcome.stderr[-3000:]
    assert [line for line in lines if line.startswith("error: ")] == lines[-1:]
    assert re.search(case.pattern(inputs), lines[-1]), lines[-1]
    assert "Traceback" not in outcome.stderr, outcome.stderr[-6000:]
    assert "complete." not in outcome.stdout and "Batch scored." not in outcome.stdout
    assert all_runs(outcome.home) == before.runs
    assert running_runs(outcome.home) == []
    assert files_under(outcome.home / "data") == before.snapshots
    assert temp_files(outcome.home) == [] and temp_files(inputs) == []
    assert not list(inputs.glob("out*"))
    assert left_over(outcome.home, before) == {}


def left_over(home: Path, before: Before, patience: float = 30.0) -> dict[int, str]:
    """New processes of this home still alive (with their command lines), after letting
    any that are already on their way out finish (a forked run flushing its logs)."""
    deadline = time.monotonic() + patience
    while True:
        new = {p for p in home_processes(home) - before.processes if alive(p)}
        if not new or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    return {p: command_line(p) for p in new}


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "(gone)"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_inputs(tmp_path_factory.mktemp("edge") / "inputs")


@pytest.fixture(scope="module")
def scoring_home(inputs: Path) -> Path:
    home = inputs.parent / "scoring-home"
    register_champion(home, "edge")
    return home


def home_for(case_id: str, inputs: Path, scoring_home: Path) -> Path:
    case = CASES[case_id]
    if "MLOPS_HOME" in case.env:
        return Path(case.environ(inputs)["MLOPS_HOME"])
    return scoring_home if case.module == PREDICT else inputs.parent / f"home-{case_id}"


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MLOPS_", "PREFECT_", "MLFLOW_", "AWS_"))
    }
    env.update(MLOPS_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    env.update(extra)
    return env


def run_module(home: Path, module: str, argv: list[str], env: dict[str, str]) -> Outcome:
    done = subprocess.run(
        [sys.executable, "-m", module, *argv],
        cwd=REPO,
        env=cli_env(home, **env),
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    return Outcome(home, done.returncode, done.stdout, done.stderr)


# --- default mode, in-process: everything known before the data -------------------------


@pytest.mark.parametrize("case_id", EDGE)
def test_bad_input_known_before_the_data_fails_in_main_with_one_line(
    case_id: str,
    inputs: Path,
    scoring_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given
    case = CASES[case_id]
    home = home_for(case_id, inputs, scoring_home)
    for key in list(os.environ):
        if key.startswith(("MLOPS_", "MLFLOW_TRACKING")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("MLOPS_HOME", str(home))
    monkeypatch.setenv("MLOPS_PREFECT_SERVER", "temporary")
    for key, value in case.environ(inputs).items():
        monkeypatch.setenv(key, value)
    before = Before.of(home)
    main = importlib.import_module(case.module).main
    # when
    code = main(case.argv(inputs))
    # then
    out = capsys.readouterr()
    check_outcome(case_id, Outcome(home, code, out.out, out.err), inputs, before)
    if case.module != PREDICT and home.is_dir():
        # a config or environment error creates nothing, not even the home's folders
        assert files_under(home) == []


# --- default mode, in-process flows under the Prefect test server: the data-level cases ---


def overrides(case: Case, inputs: Path) -> list[str]:
    argv = case.argv(inputs)
    return [argv[i + 1] for i, a in enumerate(argv) if a == "--set"]


@pytest.mark.flow
@pytest.mark.parametrize("case_id", DATA_TRAIN)
def test_bad_data_fails_the_training_flow_before_any_run_or_snapshot(
    case_id: str,
    inputs: Path,
    shared_store: Path,
    model_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given
    case = CASES[case_id]
    for key, value in case.environ(inputs).items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    config = load_train_config(
        None, [*overrides(case, inputs), f"tracking.model_name={model_name}"]
    )
    before = Before.of(shared_store)
    # when
    with pytest.raises(InputError) as caught:
        train_sklearn(config)
    # then: one line naming the file or field, and nothing written
    message = str(caught.value)
    assert re.search(case.pattern(inputs), message), message
    assert "\n" not in message
    assert all_runs(shared_store) == before.runs
    assert files_under(shared_store / "data") == before.snapshots
    assert temp_files(shared_store) == []
    client = MlflowClient(store_uri(shared_store))
    assert client.search_model_versions(f"name = '{model_name}'") == []


@pytest.mark.flow
@pytest.mark.parametrize("case_id", DATA_PREDICT)
def test_bad_scoring_input_fails_the_flow_before_any_run_or_output(
    case_id: str,
    inputs: Path,
    scoring_home: Path,
    prefect_server: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given
    from flows.runs.predict import batch_predict

    case = CASES[case_id]
    for key in list(os.environ):
        if key.startswith(("MLOPS_", "MLFLOW_TRACKING", "AWS_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("MLOPS_HOME", str(scoring_home))
    for key, value in case.environ(inputs).items():
        monkeypatch.setenv(key, value)
    argv = case.argv(inputs)
    config = PredictConfig(model=argv[1], input=argv[argv.index("--input") + 1], output=argv[-1])
    before = Before.of(scoring_home)
    # when
    with pytest.raises(InputError) as caught:
        batch_predict(config)
    # then
    message = str(caught.value)
    assert re.search(case.pattern(inputs), message), message
    assert all_runs(scoring_home) == before.runs
    assert not list(inputs.glob("out*"))


# --- default mode through `python -m`, with a temporary Prefect server -------------------


@pytest.fixture(scope="module")
def subprocess_outcomes(inputs: Path, scoring_home: Path) -> Iterator[dict[str, tuple]]:
    def run(case_id: str) -> tuple[Outcome, Before]:
        case = CASES[case_id]
        home = home_for(case_id, inputs, scoring_home)
        before = Before.of(home)
        env = {"MLOPS_PREFECT_SERVER": "temporary", **case.environ(inputs)}
        return run_module(home, case.module, case.argv(inputs), env), before

    yield {case_id: run(case_id) for case_id in SUBPROCESS}


@pytest.mark.parametrize("case_id", SUBPROCESS)
def test_bad_data_through_python_m_exits_2_with_one_line(
    case_id: str, inputs: Path, subprocess_outcomes: dict[str, tuple]
) -> None:
    # given / when: `python -m ...` as a user runs it, with Prefect's temporary server
    outcome, before = subprocess_outcomes[case_id]
    # then
    check_outcome(case_id, outcome, inputs, before)


# --- served and warm modes: a home whose first run left a local server and a warm worker ---


@pytest.fixture(scope="module")
def served_home(inputs: Path) -> Iterator[Path]:
    from deployments.runtime import stop

    home = inputs.parent / "served-home"
    # The same settings as the cases' runs, so that they match the warm worker's.
    first = run_module(
        home,
        TRAIN,
        ["--set", "data.source=iris", "--set", "data.max_rows=60"],
        {"MLOPS_PREFECT_SERVER": "auto"},
    )
    try:
        assert first.code == 0, first.stderr[-3000:]
        yield home
    finally:
        stop(home)


@pytest.mark.slow
# A run is handed to the warm worker only when that worker is ready: on a machine
# busy with other workers' tests it may not be yet, so warm mode runs alone.
@pytest.mark.parametrize("mode", ["served", pytest.param("warm", marks=pytest.mark.serial)])
@pytest.mark.parametrize("case_id", SERVED)
def test_bad_input_against_a_served_prefect_and_the_warm_worker(
    case_id: str, mode: str, inputs: Path, served_home: Path, tmp_path: Path
) -> None:
    # given: the server (and, in warm mode, the worker) that the first run left
    case = CASES[case_id]
    env = {"MLOPS_PREFECT_SERVER": "auto", **case.environ(inputs)}
    stats = tmp_path / "warm-stats.json"
    if mode == "served":
        env["MLOPS_WARM_WORKER"] = "false"
    else:
        env["MLOPS_WARM_STATS"] = str(stats)
    before = Before.of(served_home)
    # when
    outcome = run_module(served_home, case.module, case.argv(inputs), env)
    # then
    check_outcome(case_id, outcome, inputs, before)
    if mode == "warm" and not case.env:
        # the run was handed to the worker (a changed setup runs in its own process)
        assert json.loads(stats.read_text())["exit"] == 2
    # and: the servers the first run started still run (the bad input stopped nothing)
    assert before.processes <= home_processes(served_home)
