"""The shipped three-stage study end to end: screen, fold over, augment to a CCD.

Real sweeps under the Prefect test server, MLflow on SQLite in the session's
folder: stage 1 screens five gradient-boosting settings in a 2^(5-2)_III,
stage 2 is its fold-over (the 8 runs of stage 1 reused), stage 3 adds axial
and centre runs in the active factors (the 16 runs reused). Each stage is
planned from the earlier one read back from MLflow, as the CLI does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient

from flows.config.stages import next_stage
from flows.config.sweep import load_sweep_config
from flows.runs.sweep import run_sweep
from libs.settings import PlatformSettings
from tasks.sweep_records import find_sweep

STUDY = "configs/sweeps/diabetes_gbr_study.yaml"
# Lean points on a 250-row sample, no registration: the study, not the gate, is tested.
LEAN = [
    "train.data.max_rows=250",
    "train.tracking.experiment=sweep-study",
    "register_best=false",
    "concurrency=4",
]


def client() -> MlflowClient:
    return MlflowClient(PlatformSettings().resolved_tracking_uri)


@pytest.fixture(scope="module")
def study(shared_home: Path) -> dict[str, Any]:
    """The three stages, run once for the tests that read them."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLOPS_HOME", str(shared_home))
        for name in ("MLOPS_TRACKING_URI", "MLOPS_STORAGE", "MLOPS_ARTIFACT_ROOT"):
            mp.delenv(name, raising=False)
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        settings = PlatformSettings()
        first = run_sweep(load_sweep_config(STUDY, LEAN))
        fold_config, _ = next_stage(
            find_sweep(settings, first.sweep_id[:12], "--fold-over"), "fold_over"
        )
        fold = run_sweep(fold_config)
        # the second stage addressed by its parent run id, the first by its sweep id
        ccd_config, said = next_stage(
            find_sweep(settings, fold.parent_run_id, "--augment"), "augment"
        )
        ccd = run_sweep(ccd_config)
        return {"first": first, "fold": fold, "ccd": ccd, "ccd_config": ccd_config, "said": said}


def test_stage_one_is_a_resolution_iii_screen_that_proposes_a_fold_over(
    flow_home: Path, study: dict[str, Any]
) -> None:
    first = study["first"]
    assert (first.design, first.points, first.failed) == ("fractional_factorial", 8, 0)
    assert first.next_step.startswith(f"python -m flows.sweep --fold-over {first.sweep_id[:12]}")
    tags = client().get_run(first.parent_run_id).data.tags
    assert tags["design.resolution"] == "III"
    assert (tags["study.stage"], tags["study.step"]) == ("1", "screen")


def test_fold_over_reuses_stage_one_and_is_resolution_iv(
    flow_home: Path, study: dict[str, Any]
) -> None:
    fold = study["fold"]
    assert (fold.design, fold.points, fold.reused, fold.failed) == ("fold_over", 16, 8, 0)
    tags = client().get_run(fold.parent_run_id).data.tags
    assert tags["design.resolution"] == "IV"
    assert tags["study.previous_run_id"] == study["first"].parent_run_id
    assert tags["study.id"] == study["first"].sweep_id
    # the main effects are no longer aliased with two-factor interactions
    mains = tuple(f"{k.rsplit('.', 1)[-1]} is aliased" for k in fold.best_point)  # names
    assert not any(n.startswith(mains) for n in fold.notes)


def test_augmented_ccd_reuses_both_stages_and_fits_a_surface(
    flow_home: Path, study: dict[str, Any]
) -> None:
    ccd, config = study["ccd"], study["ccd_config"]
    active = config.design.factors
    assert 2 <= len(active) <= 3
    assert ccd.design == "augment_ccd" and ccd.reused == 16 and ccd.failed == 0
    assert ccd.points == 16 + 2 * len(active) + 2
    # a second-order fit with its canonical analysis (or, under significant lack of fit, no
    # optimum claimed and a note saying so), and a block term for the stages
    if ccd.optimum is not None:
        assert set(ccd.optimum) == set(active)
    else:
        assert any("no fitted optimum is claimed" in n for n in ccd.notes)
    # the recommendation names every factor; the added runs held the others at their best
    assert set(ccd.recommendation.settings) == {f.name for f in config.factors}
    held = config.design.hold
    assert set(held) == {f.name for f in config.factors} - set(active)
    assert held == {k: v for k, v in study["fold"].recommendation.settings.items() if k in held}
    assert any("3 blocks (stages)" in n for n in ccd.notes)
    # several responses: the desirability optimum is reported
    assert any(line.startswith("desirability optimum D=") for line in ccd.desirability)
    # lineage: the parent run names both earlier stages, the report shows all three
    run = client().get_run(ccd.parent_run_id)
    tags = run.data.tags
    assert tags["study.stage"] == "3"
    assert tags["study.previous_run_ids"].split(",") == [
        study["first"].parent_run_id,
        study["fold"].parent_run_id,
    ]
    assert len(ccd.study) == 3
    html = Path(ccd.report_uri).read_text()
    assert "Study stages" in html and "Pareto front" in html
    assert "desirability.optimum" in run.data.metrics
