"""Real DOE sweeps under the Prefect test server, MLflow on SQLite in a temp folder."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from mlflow import MlflowClient
from prefect.client.orchestration import get_client

from flows.config.sweep import SweepConfig, load_sweep_config
from flows.runs.sweep import run_sweep
from flows.runs.sweep_batches import on_point_done
from libs.doe.summary import SweepSummary
from libs.settings import PlatformSettings

# A half fraction of a 2^3 factorial (4 points) on a 120-row sample: small enough
# to run in seconds, with three factors to estimate effects for.
SCREENING = """
train:
  data: {source: iris, max_rows: 120}
  model: {name: random_forest}
  gate: {metric: f1_macro, threshold: 0.5}
  tracking: {experiment: sweep-screening, model_name: t-sweep-screening}
factors:
  - {name: model.params.n_estimators, type: integer, low: 5, high: 30}
  - {name: model.params.max_depth, type: integer, low: 1, high: 4}
  - {name: model.params.min_samples_leaf, type: integer, low: 1, high: 10}
design: {kind: fractional_factorial, generator: "a b ab"}
objective: {metric: f1_macro}
concurrency: 2
"""


def client() -> MlflowClient:
    return MlflowClient(PlatformSettings().resolved_tracking_uri)


def children(parent_run_id: str) -> list[Any]:
    parent = client().get_run(parent_run_id)
    return client().search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.`mlflow.parentRunId` = '{parent_run_id}'",
    )


def artifact_csv(run_id: str, path: str) -> pd.DataFrame:
    local = client().download_artifacts(run_id, path)
    return pd.read_csv(io.StringIO(Path(local).read_text()))


@pytest.fixture(scope="module")
def first_sweep(
    shared_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SweepConfig, SweepSummary, list[Any]]]:
    """One run of the screening sweep, shared by the tests that read it."""
    path = tmp_path_factory.mktemp("sweep") / "screening.yaml"
    path.write_text(SCREENING)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLOPS_HOME", str(shared_home))
        for name in ("MLOPS_TRACKING_URI", "MLOPS_STORAGE", "MLOPS_ARTIFACT_ROOT"):
            mp.delenv(name, raising=False)
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        config = load_sweep_config(path)
        seen: list[Any] = []
        with on_point_done(seen.append):
            summary = run_sweep(config)
        yield config, summary, seen


def test_sweep_nests_one_finished_child_per_point(flow_home: Path, first_sweep: Any) -> None:
    # given
    _, summary, seen = first_sweep
    # when
    parent = client().get_run(summary.parent_run_id)
    runs = children(summary.parent_run_id)
    # then: a finished parent tagged with the sweep, and 4 finished nested children
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["sweep.id"] == summary.sweep_id
    assert parent.data.tags["sweep.design"] == "fractional_factorial"
    assert parent.data.tags["sweep.n_points"] == "4"
    assert len(runs) == 4
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert {r.data.tags["sweep.id"] for r in runs} == {summary.sweep_id}
    assert sorted(int(r.data.tags["sweep.point"]) for r in runs) == list(range(4))
    assert len({r.data.tags["config_digest"] for r in runs}) == 4
    # and: the progress listener heard of every point
    assert sorted(r.index for r in seen) == list(range(4))


def test_each_point_is_a_child_flow_run_of_the_sweep(flow_home: Path, first_sweep: Any) -> None:
    # given: the Prefect flow run behind each point's MLflow run
    _, summary, _ = first_sweep
    runs = children(summary.parent_run_id)
    ids = [r.data.tags["prefect.flow_run_id"] for r in runs]
    # when
    with get_client(sync_client=True) as prefect:
        flow_runs = [prefect.read_flow_run(i) for i in ids]
    # then: each is a sub-flow run started by a task of the sweep flow
    assert all(fr.parent_task_run_id is not None for fr in flow_runs)
    assert len({fr.id for fr in flow_runs}) == 4
    # and: named by its point, as the Prefect UI lists it (issue 35)
    for run, fr in zip(runs, flow_runs, strict=True):
        point = run.data.tags["sweep.point"]
        assert re.fullmatch(
            rf"point-{point} n_estimators=\d+, max_depth=\d, min_samples_leaf=\d+", fr.name
        ), fr.name


def test_sweep_logs_design_results_and_analysis(flow_home: Path, first_sweep: Any) -> None:
    # given
    config, summary, _ = first_sweep
    run = client().get_run(summary.parent_run_id)
    # when
    results = artifact_csv(summary.parent_run_id, "sweep/results.csv")
    coded = artifact_csv(summary.parent_run_id, "sweep/design_coded.csv")
    real = artifact_csv(summary.parent_run_id, "sweep/design_real.csv")
    # then: one row per point, with factors, objective, every metric and the child run
    names = [f.name for f in config.factors]
    assert len(results) == len(coded) == len(real) == 4
    assert set(coded[names].abs().to_numpy().ravel()) == {1.0}
    assert set(real["model.params.n_estimators"]) == {5, 30}
    assert set(results["status"]) == {"completed"}
    # the objective is the 5-fold cross-validated f1_macro; the test score is the completed
    # best point's only (the other points leave the test split untouched)
    assert {"objective.cv.f1_macro", "metric.f1_macro", "metric.accuracy", "run_id", *names} <= set(
        results.columns
    )
    scored = results[results["test split"] == "scored (completed best)"]
    assert list(scored["run_id"]) == [summary.best_run_id]
    assert results["metric.f1_macro"].notna().sum() == 1
    assert set(results["split seed"]) == {42}
    assert set(results["run_id"]) == {r.info.run_id for r in children(summary.parent_run_id)}
    # and: the analysis as metrics, the report as an artifact
    metrics = run.data.metrics
    assert {f"effect.{n.rsplit('.', 1)[-1]}" for n in names} <= set(metrics)  # short names
    assert metrics["sweep.completed"] == 4 and metrics["sweep.failed"] == 0
    assert metrics["best.cv.f1_macro"] == results["objective.cv.f1_macro"].max()
    report = Path(client().download_artifacts(summary.parent_run_id, "report/report.html"))
    html = report.read_text()
    for section in ("Main effects", "Pareto of effects", "Alias structure", "Results"):
        assert f"<h2>{section}</h2>" in html
    # and: a 2^(3-1) estimates no interaction (AB = C), so it draws none
    assert "<h2>Interactions</h2>" not in html
    aliases = artifact_csv(summary.parent_run_id, "sweep/aliases.csv")
    assert list(aliases["chain"]) == ["A = BC", "B = AC", "C = AB"]
    assert run.data.tags["doe.defining_relation"] == "I = ABC"
    assert run.data.tags["doe.significance"] == "none"  # 3 effects: too few for Lenth
    # and: MLflow's params, tags and run names in short names (issue 33), the full key kept once
    shorts = [n.rsplit(".", 1)[-1] for n in names]
    assert {f"factor.{s}" for s in shorts} <= set(run.data.params)
    assert not any(k.startswith("factor.model.") for k in run.data.params)
    assert json.loads(run.data.params[f"factor.{shorts[0]}"])["name"] == names[0]
    assert run.data.tags["doe.letters"].startswith(f"A={shorts[0]}, ")
    for child in children(summary.parent_run_id):
        assert child.data.tags["mlflow.runName"].startswith(f"{sorted(shorts)[0]}=")
    assert summary.top_effects and summary.top_effects[0][0] in names


def test_best_point_goes_through_the_registry_gate(flow_home: Path, first_sweep: Any) -> None:
    # given
    _, summary, _ = first_sweep
    # when
    mv = client().get_model_version_by_alias("t-sweep-screening", "champion")
    # then: the best point's run registered as version 1, through the gate
    assert summary.version == "1" and summary.champion
    assert mv.run_id == summary.best_run_id
    assert mv.tags["gate"].startswith("promoted: ")
    assert mv.tags["sweep.id"] == summary.sweep_id
    best = client().get_run(summary.best_run_id)
    assert best.data.metrics["cv.f1_macro"] == summary.best_value


def test_rerun_reuses_completed_points(flow_home: Path, first_sweep: Any) -> None:
    # given: the same sweep already ran once
    config, first, _ = first_sweep
    experiment = client().get_experiment_by_name("sweep-screening")
    assert experiment is not None
    before = {r.info.run_id for r in client().search_runs([experiment.experiment_id])}
    # when: it runs again
    again = run_sweep(config)
    # then: a new parent, no new child run, every point reused from the first run
    after = {r.info.run_id for r in client().search_runs([experiment.experiment_id])}
    assert after - before == {again.parent_run_id}
    assert again.sweep_id == first.sweep_id
    assert (again.reused, again.failed, again.completed) == (4, 0, 4)
    results = artifact_csv(again.parent_run_id, "sweep/results.csv")
    assert set(results["status"]) == {"reused"}
    assert again.best_run_id == first.best_run_id
    # and: registering the same best run again adds no version
    assert again.version == "1"


def test_failed_point_is_recorded_and_the_sweep_completes(
    flow_home: Path, model_name: str, tmp_path: Path
) -> None:
    # given: exponential loss fails at fit on three-class iris, for half the points
    path = tmp_path / "sweep.yaml"
    path.write_text(
        f"""
train:
  data: {{source: iris, max_rows: 120}}
  model: {{name: gradient_boosting, params: {{max_depth: 2}}}}
  tracking: {{experiment: sweep-failures, model_name: {model_name}}}
factors:
  - {{name: model.params.loss, type: categorical, levels: [log_loss, exponential]}}
  - {{name: model.params.n_estimators, type: integer, low: 5, high: 20}}
design: {{kind: full_factorial}}
objective: {{metric: accuracy}}
concurrency: 2
register_best: false
"""
    )
    config = load_sweep_config(path)
    # when
    summary = run_sweep(config)
    # then: the sweep finished with two completed and two failed points
    parent = client().get_run(summary.parent_run_id)
    assert parent.info.status == "FINISHED"
    assert (summary.completed, summary.failed) == (2, 2)
    assert parent.data.metrics["sweep.failed"] == 2
    results = artifact_csv(summary.parent_run_id, "sweep/results.csv")
    failed = results[results["status"] == "failed"]
    assert set(failed["model.params.loss"]) == {"exponential"}
    assert failed["error"].str.contains("exponential").all()
    # and: each failure is a FAILED child run of the sweep
    statuses = {r.info.run_id: r.info.status for r in children(summary.parent_run_id)}
    assert {statuses[i] for i in failed["run_id"]} == {"FAILED"}
    # and: the analysis used the completed points and says what it left out
    assert any("2 of 4 points failed" in n for n in summary.notes)
    assert any("model.params.loss" in n for n in summary.notes)
    assert "effect.n_estimators" in parent.data.metrics  # short names (issue 33)
    assert summary.version is None and summary.gate_reason == "registration disabled"


def artifact_paths(run_id: str, path: str = "") -> set[str]:
    """Every artifact path of a run, recursively."""
    found: set[str] = set()
    for item in client().list_artifacts(run_id, path or None):
        if item.is_dir:
            found |= artifact_paths(run_id, item.path)
        else:
            found.add(item.path)
    return found


def logged_model_runs(experiment_name: str) -> set[str]:
    experiment = client().get_experiment_by_name(experiment_name)
    assert experiment is not None
    models = client().search_logged_models([experiment.experiment_id])
    return {m.source_run_id for m in models if m.source_run_id}


def test_points_are_lean_and_the_best_has_report_and_model(
    flow_home: Path, first_sweep: Any
) -> None:
    # given: a sweep with the default `log_models: best`
    config, summary, _ = first_sweep
    assert config.log_models == "best"
    # when
    runs = children(summary.parent_run_id)
    with_model = logged_model_runs("sweep-screening")
    # then: the best point's run holds the report and the model that was registered
    best = next(r for r in runs if r.info.run_id == summary.best_run_id)
    assert any(p.startswith("report/") for p in artifact_paths(best.info.run_id))
    assert best.info.run_id in with_model
    assert best.data.tags["sweep.model_uri"]
    assert "f1_macro" in best.data.metrics  # the completed best alone is scored on test
    mv = client().get_model_version("t-sweep-screening", "1")
    assert mv.run_id == best.info.run_id
    # and: every other point logged params, metrics and datasets only
    for run in runs:
        if run.info.run_id == summary.best_run_id:
            continue
        assert artifact_paths(run.info.run_id) == set()
        assert run.info.run_id not in with_model
        assert "sweep.model_uri" not in run.data.tags
        assert run.data.tags["sweep.status"] == "completed"
        # cross-validated only: no test score (the test split stays for the chosen model)
        assert "cv.f1_macro" in run.data.metrics and "f1_macro" not in run.data.metrics
        assert "model.params.max_depth" in run.data.params
        assert {d.dataset.name for d in run.inputs.dataset_inputs} >= {"iris-train"}


def test_log_models_all_logs_every_point(flow_home: Path, model_name: str, tmp_path: Path) -> None:
    # given: a 4-point sweep that asks for every point's model
    path = tmp_path / "sweep.yaml"
    path.write_text(
        f"""
train:
  data: {{source: iris, max_rows: 120}}
  model: {{name: logistic_regression}}
  tracking: {{experiment: sweep-all-models, model_name: {model_name}}}
factors:
  - {{name: model.params.C, type: continuous, scale: log, low: 0.01, high: 10}}
design: {{kind: full_factorial, levels: 4}}
objective: {{metric: accuracy}}
log_models: all
"""
    )
    config = load_sweep_config(path)
    # when
    summary = run_sweep(config)
    # then: every point's run holds its report and a logged model
    runs = children(summary.parent_run_id)
    assert len(runs) == 4
    with_model = logged_model_runs("sweep-all-models")
    for run in runs:
        assert any(p.startswith("report/") for p in artifact_paths(run.info.run_id))
        assert run.info.run_id in with_model
        assert run.data.tags["sweep.model_uri"]
    # and: the best one is registered from its own run
    assert summary.version == "1"
    mv = client().get_model_version(model_name, "1")
    assert mv.run_id == summary.best_run_id


def test_sweep_board_artifacts_are_on_the_flow_run_and_complete(
    flow_home: Path, first_sweep: Any
) -> None:
    # given: the sweep's flow run (tagged on its parent MLflow run)
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    _config, summary, _ = first_sweep
    flow_run_id = client().get_run(summary.parent_run_id).data.tags["prefect.flow_run_id"]
    # when
    with get_client(sync_client=True) as prefect:
        artifacts = prefect.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    by_type = {a.type: a for a in artifacts}
    # then: a progress at 100% and a table with one row per point, on the flow run
    progress, table = by_type["progress"], by_type["table"]
    assert progress.task_run_id is None and table.task_run_id is None
    assert float(progress.data) == 100.0
    assert "4 of 4 points done, 0 failed" in (progress.description or "")
    rows = table.data if isinstance(table.data, list) else __import__("json").loads(table.data)
    assert sorted(r["point"] for r in rows) == [0, 1, 2, 3]
    assert all(r["status"] == "completed" for r in rows)
    assert "markdown" in by_type  # the sweep summary, on the flow run too
