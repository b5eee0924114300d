"""A small study end to end: screen, path of steepest descent, GP batch, confirmation.

Real flows under the session's Prefect server, MLflow in the session's
folder: a logistic regression on 200 rows of breast cancer, the regularisation
C (which matters) and the solver's tolerance (which does not) in a 2^2 with
two centre runs, each point scored by 3-fold cross-validation on the training
split. Each later stage is planned from the earlier one read back from MLflow,
as the command line does.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from mlflow import MlflowClient

from flows.config.stages import next_stage
from flows.config.sweep import SweepConfig
from flows.runs.confirm import confirm
from flows.runs.sweep import run_sweep
from libs.config import validate
from libs.settings import PlatformSettings
from tasks.sweep_records import find_sweep

pytestmark = pytest.mark.slow

MODEL = "t-study-stages-lr"
STUDY: dict[str, Any] = {
    "train": {
        "data": {"source": "breast_cancer", "max_rows": 200},
        "model": {"name": "logistic_regression"},
        "gate": {"metric": "log_loss"},
        "tracking": {"experiment": "study-stages", "model_name": MODEL},
    },
    "factors": [
        {
            "name": "model.params.C",
            "type": "continuous",
            "scale": "log",
            "low": 0.001,
            "high": 0.01,
        },
        {
            "name": "model.params.tol",
            "type": "continuous",
            "scale": "log",
            "low": 0.0001,
            "high": 0.001,
        },
    ],
    "design": {"kind": "full_factorial", "center_points": 2},
    "objective": {"metric": "log_loss"},
    "cv_folds": 3,
    "concurrency": 2,
    "workers": "threads",
}


def client() -> MlflowClient:
    return MlflowClient(PlatformSettings().resolved_tracking_uri)


def results(parent_run_id: str, tmp: Path) -> pd.DataFrame:
    path = client().download_artifacts(parent_run_id, "sweep/results.csv", str(tmp))
    return pd.read_csv(path)


@pytest.fixture(scope="module")
def study(shared_home: Path) -> dict[str, Any]:
    """The four stages, run once for the tests that read them."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLOPS_HOME", str(shared_home))
        for name in ("MLOPS_TRACKING_URI", "MLOPS_STORAGE", "MLOPS_ARTIFACT_ROOT"):
            mp.delenv(name, raising=False)
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        settings = PlatformSettings()
        first_config = validate(SweepConfig, STUDY, "study.yaml")
        first = run_sweep(first_config)
        path_config, path_said = next_stage(
            find_sweep(settings, first.sweep_id[:12], "--path"), "path", steps=2
        )
        path = run_sweep(path_config)
        gp_config, _ = next_stage(find_sweep(settings, first.sweep_id[:12], "--next"), "gp", runs=1)
        gp = run_sweep(gp_config)
        earlier = find_sweep(settings, first.sweep_id, "--confirm")
        responses = earlier.responses("cv.log_loss")
        confirmed = confirm(first_config, responses, runs=2, parent_run_id=first.parent_run_id)
        return {
            "first": first,
            "path": path,
            "path_said": path_said,
            "gp": gp,
            "confirmed": confirmed,
        }


def test_points_are_scored_by_cross_validation_and_only_the_best_on_the_test_split(
    flow_home: Path, study: dict[str, Any], tmp_path: Path
) -> None:
    first = study["first"]
    # then: every point logged its three fold scores, their mean and spread; the completed
    # best point alone its test score, under its own name; the mean is what the stage ranked
    table = results(first.parent_run_id, tmp_path)
    assert "objective.cv.log_loss" in table
    assert table["metric.log_loss"].notna().sum() == 1
    assert table["metric.cv.log_loss"].notna().all()
    run = client().get_run(first.best_run_id)
    metrics = run.data.metrics
    folds = [metrics[f"cv.log_loss.fold{i}"] for i in (1, 2, 3)]
    assert metrics["cv.log_loss"] == pytest.approx(sum(folds) / 3)
    assert "cv.log_loss.std" in metrics and "log_loss" in metrics
    assert metrics["cv.log_loss"] != metrics["log_loss"]
    assert first.best_value == pytest.approx(metrics["cv.log_loss"])
    assert first.response.startswith("log_loss: mean of 3-fold cross-validation")


def test_replicates_share_the_split_and_differ_in_their_training_seed(
    flow_home: Path, study: dict[str, Any], tmp_path: Path
) -> None:
    table = results(study["first"].parent_run_id, tmp_path)
    # then: one split for every run; the second centre run trains with its own seed
    assert set(table["split seed"]) == {42}
    assert sorted(table["train seed"]) == [42, 42, 42, 42, 42, 43]


def test_every_stage_ends_with_its_recommendation_and_the_confirm_command(
    flow_home: Path, study: dict[str, Any]
) -> None:
    from libs.study_results import stage_lines

    first = study["first"]
    rec = first.recommendation
    # then: every factor named, with a prediction interval around the prediction
    assert set(rec.settings) == {"model.params.C", "model.params.tol"}
    low, high = rec.interval
    assert low <= rec.predicted <= high
    lines = stage_lines(first)
    assert lines[-1].split(":", 1)[1].strip() == (
        f"python -m flows.sweep --confirm {first.sweep_id[:12]} --runs 3"
    )
    assert any(line.startswith("Recommendation:") for line in lines)
    assert first.best_params == first.best_point and first.effects is not None


def test_path_stage_runs_single_runs_along_steepest_descent(
    flow_home: Path, study: dict[str, Any]
) -> None:
    first, path = study["first"], study["path"]
    # then: a stage of the same study, whose runs move C up (a smaller log loss)
    assert path.design == "path" and path.failed == 0
    tags = client().get_run(path.parent_run_id).data.tags
    assert (tags["study.id"], tags["study.step"]) == (first.sweep_id, "path")
    assert path.best_point["model.params.C"] > 0.01
    assert path.best_value < first.best_value
    assert path.next_command == f"python -m flows.sweep --next {path.sweep_id[:12]}"


def test_gp_stage_reuses_every_run_and_proposes_a_batch(
    flow_home: Path, study: dict[str, Any]
) -> None:
    first, gp = study["first"], study["gp"]
    # then: the six screening runs reused, one new run, one study
    assert (gp.design, gp.points, gp.reused, gp.failed) == ("gp", 7, 6, 0)
    tags = client().get_run(gp.parent_run_id).data.tags
    assert (tags["study.id"], tags["study.stage"], tags["study.step"]) == (
        first.sweep_id,
        "2",
        "gp",
    )
    assert tags["study.previous_run_id"] == first.parent_run_id


def test_confirmation_trains_the_recommendation_with_new_seeds_on_the_same_split(
    flow_home: Path, study: dict[str, Any]
) -> None:
    first, confirmed = study["first"], study["confirmed"]
    # then: the exact recommended setting, two training seeds, test scores judged
    assert confirmed.settings == first.recommendation.settings
    assert [r.train_seed for r in confirmed.runs] == [1042, 1043]
    assert all(r.value is not None and r.inside is not None for r in confirmed.runs)
    assert "confirmation runs fall inside" in confirmed.verdict
    run = client().get_run(confirmed.runs[0].run_id)
    params = run.data.params
    assert params["split.seed"] == "42" and params["split.train_seed"] == "1042"
    assert float(params["model.params.C"]) == pytest.approx(
        first.recommendation.settings["model.params.C"]
    )
    assert run.data.tags["sweep.confirms"] == first.sweep_id
    # and: in short names, rounded by each factor's range (issue 33), in MLflow and printed
    assert run.data.tags["sweep.setting"].startswith("C=")
    assert ", tol=" in run.data.tags["sweep.setting"]
    assert "model.params." not in str(confirmed) and "C=" in str(confirmed)
    assert not re.search(r"\d\.\d{7,}", str(confirmed)), str(confirmed)
    # and: the stage's run records the confirmation and its picture
    stage = client().get_run(first.parent_run_id)
    assert stage.data.tags["confirm.verdict"] == confirmed.verdict
    assert stage.data.metrics["confirm.inside"] == confirmed.inside
    artifacts = [a.path for a in client().list_artifacts(first.parent_run_id, "confirm")]
    assert artifacts == ["confirm/confirmation.html"]
    # at most one version per stage, and only of a model that beat the champion then
    versions = client().search_model_versions(f"name = '{MODEL}'")
    stages = [v.tags.get("sweep.id") for v in versions]
    assert len(stages) == len(set(stages))
    if confirmed.version is None:
        assert confirmed.gate_reason.startswith("not registered:")


def test_only_the_median_confirmation_run_logs_a_model_and_report(
    flow_home: Path, study: dict[str, Any]
) -> None:
    confirmed = study["confirmed"]
    runs = [client().get_run(r.run_id) for r in confirmed.runs]
    # then: every run was scored on the test split and judged against the interval
    assert len(runs) == 2 and all("log_loss" in r.data.metrics for r in runs)
    assert [r.data.metrics["log_loss"] for r in runs] == [r.value for r in confirmed.runs]
    # and: only the median run (the one the gate saw) has a report and a logged model
    ids = {r.info.run_id for r in runs}
    reported = {i for i in ids if client().list_artifacts(i, "report")}
    assert reported == {confirmed.run_id}
    models = client().search_logged_models(experiment_ids=[runs[0].info.experiment_id])
    assert {m.source_run_id for m in models} & ids == {confirmed.run_id}


def test_optimal_augmentation_reuses_the_screen_and_adds_its_own_block(
    flow_home: Path, study: dict[str, Any]
) -> None:
    """Goos & Jones (2011), ch. 3: the 2^2 with two centre runs cannot separate the two
    quadratic terms; two D-optimal runs in a block of their own complete the quadratic
    model (7 parameters with the block), every earlier run reused."""
    # given: the screen, read back as the command line does
    first = study["first"]
    earlier = find_sweep(PlatformSettings(), first.sweep_id[:12], "--augment")
    # when: python -m flows.sweep --augment <sweep> --to optimal --runs 2 --model quadratic
    config, said = next_stage(earlier, "augment", to="optimal", runs=2, model="quadratic")
    stage = run_sweep(config)
    # then
    assert (stage.design, stage.points, stage.reused, stage.failed) == (
        "augment_optimal",
        8,
        6,
        0,
    )
    assert said[0].startswith("stage 2: 2 D-optimal runs for the quadratic model in C, tol")
    tags = client().get_run(stage.parent_run_id).data.tags
    assert (tags["study.step"], tags["design.blocks"]) == ("augment", "2")
    html = Path(stage.report_uri).read_text()
    assert "Design evaluation (before any training)" in html
