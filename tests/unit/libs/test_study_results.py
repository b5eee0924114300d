"""The pure parts of a study stage: cross-validation, ranking by the mean, explicit runs,
the recommendation's lines."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from libs.crossval import CrossValidation, cross_validate, fold_indices
from libs.datasets import SplitSpec, load_bundled
from libs.doe import FactorSpace
from libs.doe.recommend import Recommendation
from libs.doe.sweep import PointResult
from libs.errors import InputError
from libs.features import FeatureSpec
from libs.models import SklearnModelSpec
from libs.studies import best_setting, explicit_design, response_view, with_seeds
from libs.study_recommendation import stage_recommendation
from libs.study_results import StageSummary, stage_lines, stage_markdown

SPACE = FactorSpace(
    factors=[
        {"name": "model.params.C", "type": "continuous", "scale": "log", "low": 0.01, "high": 1},
        {"name": "model.params.max_iter", "type": "integer", "low": 50, "high": 150},
    ]
)


def test_folds_are_seeded_stratified_and_the_same_for_every_call() -> None:
    # given: 60 labels, two classes 40/20
    y = pd.Series([0] * 40 + [1] * 20)
    # when
    first, stratified = fold_indices(y, "classification", 4, seed=7)
    again, _ = fold_indices(y, "classification", 4, seed=7)
    other, _ = fold_indices(y, "classification", 4, seed=8)
    # then: the same folds for the same seed, each holding out 5 of the 20 positives
    assert stratified
    assert all((a[1] == b[1]).all() for a, b in zip(first, again, strict=True))
    assert any((a[1] != b[1]).any() for a, b in zip(first, other, strict=True))
    assert [int(y.iloc[held].sum()) for _, held in first] == [5, 5, 5, 5]


def test_too_many_folds_for_the_rows_is_one_line_naming_the_field() -> None:
    with pytest.raises(InputError, match=r"split.cv_folds: 5 folds need at least 10"):
        fold_indices(pd.Series(range(8)), "regression", 5, seed=0)


def _ridge_folds(cost: bool) -> CrossValidation:
    """A ridge regression cross-validated on 3 folds of 150 rows of diabetes."""
    frame = load_bundled("diabetes").head(150)
    x, y = frame.drop(columns=["target"]), frame["target"]
    return cross_validate(
        SklearnModelSpec(name="ridge"),
        FeatureSpec(),
        x,
        y,
        "regression",
        folds=3,
        split_seed=42,
        train_seed=42,
        cost=cost,
    )


def test_cross_validation_logs_each_fold_its_mean_and_spread() -> None:
    # given: 150 rows of diabetes, a ridge regression
    # when
    result = _ridge_folds(cost=False)
    metrics = result.metrics()
    # then
    folds = [metrics[f"cv.r2.fold{i}"] for i in (1, 2, 3)]
    assert metrics["cv.r2"] == pytest.approx(sum(folds) / 3)
    assert metrics["cv.r2.std"] == pytest.approx(pd.Series(folds).std())
    assert not result.stratified
    # and: no cost metrics unless asked (a full run measures them on its own model)
    assert "train_seconds" not in metrics


def test_cross_validation_measures_the_cost_on_the_first_folds_model() -> None:
    # given: what a sweep's lean point fits (nothing but its folds)
    # when
    metrics = _ridge_folds(cost=True).metrics()
    # then: the three cost responses under their own names, measured, not zero
    assert metrics["train_seconds"] > 0
    assert metrics["predict_ms_per_row"] > 0
    assert metrics["model_size_bytes"] > 100  # a pickled ridge with 10 coefficients
    assert "cv.train_seconds" not in metrics


def test_split_spec_separates_the_training_seed_from_the_split() -> None:
    spec = SplitSpec(seed=42, train_seed=43, cv_folds=1)
    assert (spec.model_seed, SplitSpec().model_seed) == (43, 42)
    assert spec.folds == 0 and SplitSpec(cv_folds=5).folds == 5
    # the rows do not depend on the training seed or the folds
    assert spec.rows_key() == SplitSpec(seed=42, cv_folds=5).rows_key()


def test_the_best_setting_is_ranked_by_its_mean_not_its_luckiest_replicate() -> None:
    # given: setting A once at 0.80; setting B three times, once lucky (0.85), mean 0.79
    a = {"C": 1}
    b = {"C": 2}
    results = [
        PointResult(0, a, "completed", objective=0.80),
        PointResult(1, b, "completed", objective=0.85),
        PointResult(2, b, "completed", objective=0.76),
        PointResult(3, b, "completed", objective=0.76),
        PointResult(4, {"C": 3}, "failed"),
    ]
    # when
    best = best_setting(results, maximize=True)
    worst_first = best_setting(results, maximize=False)
    # then
    assert best is not None and best.run.index == 0 and best.mean == pytest.approx(0.80)
    assert worst_first is not None and worst_first.indices == (1, 2, 3)
    assert worst_first.mean == pytest.approx(0.79) and worst_first.runs == 3


def test_results_table_shows_each_runs_split_and_training_seed() -> None:
    table = pd.DataFrame({"point": [0, 1], "C": [1, 1], "status": ["completed"] * 2})
    out = with_seeds(table, {0: (42, 42), 1: (42, 43)})
    assert list(out.columns) == ["point", "C", "split seed", "train seed", "status"]
    assert list(out["train seed"]) == [42, 43]


def test_a_response_is_read_from_its_cross_validated_name() -> None:
    r = PointResult(0, {}, "completed", metrics={"r2": 0.5, "cv.r2": 0.4, "train_seconds": 1.0})
    view = response_view([r], {"r2": "cv.r2", "train_seconds": "train_seconds"})[0]
    assert view.metrics["r2"] == 0.4 and view.metrics["train_seconds"] == 1.0


def test_explicit_runs_keep_their_values_and_count_replicates() -> None:
    # given: a path beyond the factor's range (C = 10 is coded +3), a repeated run
    points = [
        {"model.params.C": 0.1, "model.params.max_iter": 100},
        {"model.params.C": 10.0, "model.params.max_iter": 100},
        {"model.params.C": 0.1, "model.params.max_iter": 100},
    ]
    # when
    design = explicit_design(SPACE, "path", points, [2, 2, 2])
    # then: nothing clipped, the third run is a replicate of the first
    assert design.points[1]["model.params.C"] == 10.0
    assert design.coded["model.params.C"].tolist() == pytest.approx([0.0, 2.0, 0.0])
    assert design.replicate == (0, 0, 1) and design.block == (2, 2, 2)
    with pytest.raises(InputError, match=r"runs.points\[0\]: missing model.params.max_iter"):
        explicit_design(SPACE, "gp", [{"model.params.C": 0.1}])


def test_a_path_stage_recommends_its_best_run_without_an_interval() -> None:
    points = [{"model.params.C": c, "model.params.max_iter": 100} for c in (0.1, 1.0, 10.0)]
    design = explicit_design(SPACE, "path", points)
    rec, why = stage_recommendation(design, SPACE, {0: 0.5, 1: 0.7, 2: 0.6}, maximize=True)
    assert why == "" and rec is not None
    assert rec.settings == points[1] and rec.predicted == 0.7
    assert all(math.isnan(v) for v in rec.interval)


def test_the_stage_summary_ends_with_every_factor_and_the_confirm_command() -> None:
    # given
    rec = Recommendation(
        settings={"model.params.C": 0.3162, "model.params.max_iter": 100},
        predicted=0.81,
        interval=(0.75, 0.87),
        source="model",
        reason="the first-order model is significant",
        held={"model.params.max_iter": "not varied: at the centre (100)"},
    )
    summary = StageSummary(
        parent_run_id="p",
        run_url="u",
        experiment="e",
        sweep_id="0123456789abcdef",
        design="full_factorial",
        points=4,
        completed=4,
        reused=0,
        failed=0,
        metric="accuracy",
        direction="maximize",
        top_effects=[],
        optimum=None,
        predicted_optimum=None,
        surface_r2=None,
        best_index=0,
        best_point={"model.params.C": 1.0},
        best_value=0.8,
        best_run_id="r",
        model_name=None,
        version=None,
        champion=False,
        gate_reason="registration disabled",
        report_uri="",
        ui_command="",
        notes=["a note"],
        recommendation=rec,
        confirm="python -m flows.sweep --confirm 0123456789ab --runs 3",
    )
    # when
    lines = stage_lines(summary)
    # then
    text = "\n".join(lines)
    assert "model.params.C=0.3162, model.params.max_iter=100" in text
    assert "95% prediction interval [0.75, 0.87]" in text
    assert "model.params.max_iter: not varied" in text
    assert lines[-1].endswith("python -m flows.sweep --confirm 0123456789ab --runs 3")
    # and: the Prefect UI's summary artifact speaks short names, as the terminal does
    markdown = stage_markdown(summary)
    assert "| Recommendation | C=0.3162, max_iter=100 |" in markdown
    assert "max_iter: not varied" in markdown and "model.params." not in markdown
