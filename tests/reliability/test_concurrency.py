"""Concurrent flows on one store: no lost version, no wrong champion, no mixed sweeps."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from mlflow import MlflowClient
from reliability_support import store_uri

from flows.config.sweep import SweepConfig
from flows.config.train import load_train_config
from flows.runs.frameworks import train_sklearn
from flows.runs.sweep import run_sweep

# Regularisation from crippling to none: the eight accuracies differ (mostly).
C_VALUES = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 0.1, 1.0, 10.0)


@pytest.mark.flow
@pytest.mark.slow
def test_eight_concurrent_registrations_give_eight_versions_and_the_best_champion(
    fresh_home: Path, model_name: str
) -> None:
    # given: eight configs registering the same model, each with its own C
    configs = [
        load_train_config(
            None,
            [
                "data.source=breast_cancer",
                f"model.params.C={c}",
                "gate.threshold=0.0",
                f"tracking.model_name={model_name}",
                "tracking.experiment=concurrent-registration",
            ],
        )
        for c in C_VALUES
    ]
    # when: all eight flows run at once
    with ThreadPoolExecutor(max_workers=len(configs)) as pool:
        summaries = list(pool.map(train_sklearn, configs))
    # then: eight distinct versions 1..8, one per run
    client = MlflowClient(store_uri(fresh_home))
    versions = client.search_model_versions(f"name = '{model_name}'")
    assert sorted(int(v.version) for v in versions) == list(range(1, 9))
    assert sorted(s.version or "" for s in summaries) == sorted(str(i) for i in range(1, 9))
    assert {v.run_id for v in versions} == {s.run_id for s in summaries}
    # and: champion is a version with the best accuracy (no lost update)
    accuracy = {s.version: s.metrics["accuracy"] for s in summaries}
    assert len(set(accuracy.values())) > 1
    champion = client.get_model_version_by_alias(model_name, "champion")
    assert accuracy[str(champion.version)] == max(accuracy.values())
    # and: every version carries its gate decision, and no run is left RUNNING
    assert all("gate" in v.tags for v in versions)
    statuses = {client.get_run(s.run_id).info.status for s in summaries}
    assert statuses == {"FINISHED"}


def sweep_config(name: str, factors: list[dict], model_name: str) -> SweepConfig:
    return SweepConfig.model_validate(
        {
            "name": name,
            "train": {
                "data": {"source": "iris", "max_rows": 60},
                "model": {"name": "logistic_regression"},
                "tracking": {"experiment": "concurrent-sweeps", "model_name": model_name},
            },
            "factors": factors,
            "design": {"kind": "full_factorial"},
            "objective": {"metric": "accuracy"},
            "concurrency": 2,
            "register_best": False,
        }
    )


@pytest.mark.flow
@pytest.mark.slow
def test_two_concurrent_sweeps_in_one_experiment_keep_their_children_apart(
    fresh_home: Path, model_name: str
) -> None:
    # given: two different designs (2 and 4 points) writing to the same experiment
    c_factor = {"name": "model.params.C", "type": "continuous", "scale": "log"}
    small = sweep_config("sweep-a", [{**c_factor, "low": 0.01, "high": 10}], model_name)
    large = sweep_config(
        "sweep-b",
        [
            {**c_factor, "low": 0.1, "high": 100},
            {"name": "model.params.fit_intercept", "type": "categorical", "levels": [True, False]},
        ],
        model_name,
    )
    # when: both run at once
    with ThreadPoolExecutor(max_workers=2) as pool:
        summaries = list(pool.map(run_sweep, [small, large]))
    # then: each parent has exactly its own points as children, tagged with its sweep id
    client = MlflowClient(store_uri(fresh_home))
    experiment = client.get_experiment_by_name("concurrent-sweeps")
    assert experiment is not None
    everything = client.search_runs([experiment.experiment_id])
    assert len({s.sweep_id for s in summaries}) == 2
    for summary, points in zip(summaries, (2, 4), strict=True):
        children = [
            r for r in everything if r.data.tags.get("mlflow.parentRunId") == summary.parent_run_id
        ]
        assert summary.points == points and summary.completed == points
        assert len(children) == points
        assert {r.data.tags["sweep.id"] for r in children} == {summary.sweep_id}
        assert sorted(int(r.data.tags["sweep.point"]) for r in children) == list(range(points))
        parent = client.get_run(summary.parent_run_id)
        assert parent.data.tags["sweep.id"] == summary.sweep_id
    # and: nothing else in the experiment, and nothing left RUNNING
    assert len(everything) == 2 + 2 + 4
    assert {r.info.status for r in everything} == {"FINISHED"}
