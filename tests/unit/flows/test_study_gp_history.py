"""A GP stage models every run of the study: the earlier stages' runs (a --next design or a
path is not nested in the stage after it) join the last stage's, each training run once."""

from __future__ import annotations

import pandas as pd

from flows.config.stage_runs import study_runs
from flows.config.sweep import load_sweep_config, plan_sweep
from libs.doe.sweep import EarlierSweep

C, G = "model.params.C", "model.params.gamma"


def _earlier(config_json: str, rows: list[tuple[float, float, float, str]]) -> EarlierSweep:
    table = pd.DataFrame(
        [
            {"point": i, C: c, G: g, "status": "completed", "metric.cv.log_loss": y, "run_id": r}
            for i, (c, g, y, r) in enumerate(rows)
        ]
    )
    return EarlierSweep("run", "sweep", "name", "exp", config_json, table)


def test_a_gp_stage_sees_the_earlier_stages_runs_once_each() -> None:
    # given: the last stage (2^2 + 2 centre runs), its first run reused from an earlier stage
    # of three runs (same MLflow run id), the other earlier runs not in the last stage
    config = load_sweep_config("benchmarks/configs/study_wine_svm.yaml")
    plan = plan_sweep(config, "test")
    values = {i: 0.1 * (i + 1) for i in range(len(plan.design))}
    last = [
        (p[C], p[G], values[i], "a" if i == 0 else f"r{i}")
        for i, p in enumerate(plan.design.points)
    ]
    earlier_rows = [(last[0][0], last[0][1], 0.1, "a"), (0.5, 0.01, 0.9, "b"), (2.0, 0.1, 0.8, "c")]
    first = _earlier(config.model_dump_json(), earlier_rows)
    # when
    points, y, blocks = study_runs(
        config, plan, values, _earlier(config.model_dump_json(), last), [first]
    )
    # then: 3 + 6 - 1 runs, the earlier stage's as block 1
    assert len(points) == len(y) == 8
    assert sorted(y) == sorted([0.1, 0.9, 0.8, *[values[i] for i in range(1, 6)]])
    assert blocks[:3] == [1, 1, 1]
    assert all(set(p) == {C, G} for p in points)
