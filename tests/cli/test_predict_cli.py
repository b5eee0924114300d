"""`python -m flows.predict` run exactly as a user would, in a subprocess.

The refusals run the command's `main` in this process (`cli_support.main_in_process`):
what they print does not depend on the process, and a subprocess cost each 5-10 CPU-s
of imports (that bad input exits 2 from `python -m` before Prefect and MLflow are
imported is tests/cli/test_bad_input_before_imports.py's).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from cli_support import main_in_process, run_cli

REPO = Path(__file__).resolve().parents[2]


def register_champion(home: Path, name: str) -> Path:
    """A logistic regression on iris, registered as `name`@champion straight through MLflow.

    Training through `python -m flows.train` costs a second Prefect start-up; the
    flow tests cover that path. The training run carries the platform's
    `data.snapshot_uri` tag, so the batch gets a drift reference.
    """
    import mlflow
    import mlflow.sklearn
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    from libs.datasets import load_bundled

    frame = load_bundled("iris")
    snapshot = home / "data" / "snapshots" / "iris.parquet"
    snapshot.parent.mkdir(parents=True)
    frame.to_parquet(snapshot, index=False)
    features = frame.drop(columns=["target"])
    model = LogisticRegression(max_iter=500).fit(features, frame["target"])
    uri = f"sqlite:///{home.resolve()}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient(uri)
    experiment = client.create_experiment(
        "training", artifact_location=(home / "mlartifacts").resolve().as_uri()
    )
    tags = {"data.snapshot_uri": str(snapshot), "task": "classification"}
    with mlflow.start_run(experiment_id=experiment, tags=tags):
        mlflow.log_param("data.target", "target")
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(features, model.predict(features)),
            registered_model_name=name,
            pip_requirements=["scikit-learn"],
        )
    client.set_registered_model_alias(name, "champion", str(info.registered_model_version))
    return snapshot


def test_cli_scores_with_the_champion_and_prints_where_to_look(tmp_path: Path) -> None:
    # given: a champion, and its own training data as the batch
    home = tmp_path / "state"
    snapshot = register_champion(home, "iris-random-forest")
    output = tmp_path / "scored.csv"
    # when
    result = run_cli(
        home,
        "flows.predict",
        "--model",
        "iris-random-forest",
        "--input",
        str(snapshot),
        "--output",
        str(output),
        "--chunk-rows",
        "40",
        "--drift-threshold",
        "0.25",
    )
    # then
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "Batch scored." in out
    assert "Rows scored:      150 in " in out
    assert f"Output:           {output}" in out
    assert "Model:            iris-random-forest version 1 (run " in out
    assert "Input drift:      none" in out
    report = out.split("Drift report:     ")[1].split()[0]
    assert report.endswith("/drift_report.html") and Path(report).is_file()
    assert "MLflow run:" in out and "(experiment 'inference')" in out
    assert f"mlflow ui --backend-store-uri sqlite:///{home.resolve()}/mlflow.db" in out
    scored = pd.read_csv(output)
    assert len(scored) == 150 and set(scored["model_name"]) == {"iris-random-forest"}
    # and: the progress bar counted every row (on stderr, so stdout stays the summary)
    assert "150/150" in result.stderr


def test_cli_unknown_model_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: a fresh home with no tracking store
    home = tmp_path / "state"
    source = tmp_path / "in.csv"
    source.write_text("a\n1\n")
    output = tmp_path / "out.csv"
    # when
    code = main_in_process(
        monkeypatch,
        home,
        "flows.predict",
        "--model",
        "nope",
        "--input",
        str(source),
        "--output",
        str(output),
    )
    # then
    assert code == 2
    tracking = f"sqlite:///{home.resolve()}/mlflow.db"
    assert capsys.readouterr().err.strip() == (
        f"error: model: no registered model 'nope' (no tracking store at {tracking})"
    )
    assert not output.exists()
    assert not home.exists()


def test_cli_bad_arguments_exit_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main_in_process(
        monkeypatch,
        tmp_path / "state",
        "flows.predict",
        "--model",
        "m@",
        "--input",
        "in.csv",
        "--output",
        "out.csv",
    )
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        "error: arguments: model: expected NAME, NAME@alias or NAME/version (got 'm@')"
    )
