"""SweepConfig and the sweep plan: every point validated before any run starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.config.sweep import SweepConfig, load_sweep_config, plan_sweep, sweep_digest
from libs.config import validate
from libs.errors import InputError

REPO = Path(__file__).resolve().parents[3]
SHIPPED = sorted((REPO / "configs" / "sweeps").glob("*.yaml"))

BASE: dict[str, Any] = {
    "train": {"data": {"source": "iris"}, "model": {"name": "random_forest"}},
    "factors": [
        {"name": "model.params.n_estimators", "type": "integer", "low": 5, "high": 30},
        {"name": "model.params.max_depth", "type": "integer", "low": 1, "high": 4},
    ],
    "design": {"kind": "full_factorial"},
    "objective": {"metric": "accuracy"},
}


def sweep(**changes: Any) -> SweepConfig:
    return validate(SweepConfig, {**BASE, **changes}, "sweep.yaml")


def one_line_error(fn: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(InputError) as info:
        fn(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_sweep_config_plans(path: Path) -> None:
    # given
    config = load_sweep_config(path)
    # when
    plan = plan_sweep(config, str(path))
    # then: one validated training config per point, with the point's values set
    assert len(plan.jobs) == len(plan.design) >= 4
    for job in plan.jobs:
        assert job.config.tracking.register_model is False
        applied = job.config.model_dump()
        for name, value in job.point.items():
            node: Any = applied
            for part in name.split("."):
                node = node[part]
            assert node == value
        assert job.config_digest == job.config.digest()


def test_shipped_configs_include_a_screening_and_a_response_surface_design() -> None:
    kinds = {yaml.safe_load(p.read_text())["design"]["kind"] for p in SHIPPED}
    assert kinds & {"plackett_burman", "fractional_factorial"}
    assert kinds & {"central_composite", "box_behnken"}


def test_base_yaml_then_train_then_point() -> None:
    # given: a base file, an inline override and a factor on the same section
    config = sweep(
        base=str(REPO / "configs" / "iris_random_forest.yaml"),
        train={"data": {"max_rows": 50}},
    )
    # when
    plan = plan_sweep(config)
    # then
    first = plan.jobs[0].config
    assert first.data.source == "iris" and first.data.max_rows == 50
    assert first.gate.metric == "f1_macro"  # from the base file
    assert first.model.params["n_estimators"] == 5  # the factor wins over the base's 100
    assert len({job.config_digest for job in plan.jobs}) == 4


def test_factor_path_outside_train_config_names_the_factor() -> None:
    factors = [{"name": "model.nmae", "type": "categorical", "levels": ["a", "b"]}]
    message = one_line_error(plan_sweep, sweep(factors=factors), "sweep.yaml")
    assert (
        message == "sweep.yaml: factor 'model.nmae' (point 0, value 'a'): model.nmae: unknown key"
    )


def test_factor_through_a_value_names_the_factor() -> None:
    factors = [{"name": "data.source.rows", "type": "integer", "low": 1, "high": 3}]
    message = one_line_error(plan_sweep, sweep(factors=factors), "sweep.yaml")
    assert message.startswith("sweep.yaml: factor 'data.source.rows' (point 0, value 1): ")
    assert "'data.source' holds a str, not a mapping" in message


def test_estimator_parameter_that_does_not_exist_names_the_factor() -> None:
    factors = [{"name": "model.params.depth", "type": "integer", "low": 1, "high": 3}]
    message = one_line_error(plan_sweep, sweep(factors=factors), "sweep.yaml")
    assert message.startswith("sweep.yaml: factor 'model.params.depth' (point 0, ")
    assert "not a parameter of RandomForestClassifier" in message


def test_value_the_estimator_refuses_names_the_factor() -> None:
    factors = [{"name": "model.params.n_estimators", "type": "integer", "low": 0, "high": 3}]
    message = one_line_error(plan_sweep, sweep(factors=factors), "sweep.yaml")
    assert message.startswith("sweep.yaml: factor 'model.params.n_estimators' (point 0, ")
    assert "n_estimators" in message.split("): ", 1)[1]


def test_unknown_objective_metric_is_one_line() -> None:
    message = one_line_error(sweep, objective={"metric": "acuracy"})
    assert message.startswith("sweep.yaml: objective.metric: unknown metric 'acuracy'")


def test_objective_metric_of_the_wrong_task_fails_before_running() -> None:
    message = one_line_error(plan_sweep, sweep(objective={"metric": "r2"}), "sweep.yaml")
    assert message.startswith(
        "sweep.yaml: objective.metric: 'r2' is not computed for classification"
    )


def test_objective_direction_must_match_the_metric() -> None:
    message = one_line_error(sweep, objective={"metric": "rmse", "direction": "maximize"})
    assert "objective: direction: 'maximize' contradicts rmse" in message
    assert sweep(objective={"metric": "log_loss"}).objective.maximize is False


def test_zero_factors_fail_clearly() -> None:
    message = one_line_error(sweep, factors=[])
    assert message == "sweep.yaml: factors: at least one factor is needed"


def test_inverted_bounds_name_the_factor() -> None:
    factors = [{"name": "model.params.max_depth", "type": "integer", "low": 5, "high": 2}]
    message = one_line_error(sweep, factors=factors)
    assert "factor 'model.params.max_depth': low (5) must be below high (2)" in message


def test_categorical_factor_in_a_response_surface_design_fails() -> None:
    config = sweep(
        factors=[
            *BASE["factors"],
            {
                "name": "model.params.criterion",
                "type": "categorical",
                "levels": ["gini", "entropy"],
            },
        ],
        design={"kind": "box_behnken"},
    )
    message = one_line_error(plan_sweep, config, "sweep.yaml")
    assert "factor 'model.params.criterion': box_behnken needs numeric factors" in message


def test_deployment_mode_needs_a_deployment_name() -> None:
    message = one_line_error(sweep, mode="deployment")
    assert "deployment_name: required when mode is 'deployment'" in message
    assert sweep(mode="deployment", deployment_name="train-sklearn/pool").mode == "deployment"


def test_concurrency_must_be_positive() -> None:
    message = one_line_error(sweep, concurrency=0)
    assert message.startswith("sweep.yaml: concurrency: Input should be greater than or equal to 1")


def test_digest_follows_what_decides_results_only() -> None:
    # given
    plan = plan_sweep(sweep())
    # when
    faster = plan_sweep(sweep(concurrency=8, objective={"metric": "f1_macro"}))
    wider = plan_sweep(sweep(factors=[{**BASE["factors"][0], "high": 50}, BASE["factors"][1]]))
    # then: concurrency and objective do not change the sweep's identity; the factors do
    assert faster.digest == plan.digest == sweep_digest(plan.base, plan.config)
    assert wider.digest != plan.digest
    assert plan.jobs[0].config_digest == faster.jobs[0].config_digest


def test_missing_config_file_is_an_input_error() -> None:
    message = one_line_error(load_sweep_config, None)
    assert message.startswith("--config: a sweep needs a config file")


def test_deployment_request_carries_config_parent_and_idempotency_key() -> None:
    from flows.runs.sweep_points import deployment_request
    from libs.doe.names import Namer

    # given
    plan = plan_sweep(sweep(mode="deployment", deployment_name="train-sklearn/ec2"))
    job = plan.jobs[2]
    # when
    request = deployment_request(
        "train-sklearn/ec2", job, parent_run_id="p123", sweep_id=plan.digest, timeout=600.0
    )
    # then
    assert request == {
        "name": "train-sklearn/ec2",
        "parameters": {"config": job.config.model_dump(mode="json"), "parent_run_id": "p123"},
        "flow_run_name": f"point-2 {Namer.of(list(job.point)).point(job.point)}",
        "idempotency_key": f"{plan.digest}-2-p123",
        "as_subflow": True,
        "timeout": 600.0,
    }
    # and: the parameters validate back into the same training config
    from flows.config.train import TrainConfig

    assert TrainConfig.model_validate(request["parameters"]["config"]) == job.config


def test_tensorflow_sweep_plans_without_building_an_estimator_and_runs_one_point_at_a_time() -> (
    None
):
    # given: the shipped Keras screening sweep
    path = "configs/sweeps/breast_cancer_mlp_screening.yaml"
    # when
    plan = plan_sweep(load_sweep_config(path), path)
    # then
    assert len(plan.jobs) == 4
    assert {j.config.model.framework for j in plan.jobs} == {"tensorflow"}
    with pytest.raises(InputError, match=r"concurrency: TensorFlow points run one at a time"):
        plan_sweep(load_sweep_config(path, ["concurrency=2"]), path)


def test_replicated_runs_train_with_their_own_seed_on_the_same_split() -> None:
    # given: a 2^2 with 3 centre points; the base split seed is 7
    config = sweep(
        train={
            "data": {"source": "iris"},
            "model": {"name": "random_forest"},
            "split": {"seed": 7},
        },
        design={"kind": "full_factorial", "center_points": 3},
        factors=[
            {"name": "model.params.n_estimators", "type": "integer", "low": 6, "high": 30},
            {"name": "model.params.max_depth", "type": "integer", "low": 2, "high": 4},
        ],
    )
    # when
    plan = plan_sweep(config)
    # then: each centre run is a replicate with training seed 7 + its number, so their
    # results differ, while every run keeps the split of seed 7 (runs compared on equal terms)
    centre = [j for j in plan.jobs if all(v == 0 for v in j.coded.values())]
    assert sorted(j.replicate for j in centre) == [0, 1, 2]
    assert sorted(j.config.split.model_seed for j in centre) == [7, 8, 9]
    assert {j.config.split.seed for j in plan.jobs} == {7}
    assert len({j.config_digest for j in plan.jobs}) == len(plan.jobs) == 7
    corners = [j for j in plan.jobs if j not in centre]
    assert {j.config.split.model_seed for j in corners} == {7}


def test_split_replicates_re_split_when_the_sweep_asks() -> None:
    # given: the same design, with replicate_split
    config = sweep(
        train={"data": {"source": "iris"}, "model": {"name": "random_forest"}},
        design={"kind": "full_factorial", "center_points": 2},
        factors=[
            {"name": "model.params.n_estimators", "type": "integer", "low": 6, "high": 30},
            {"name": "model.params.max_depth", "type": "integer", "low": 2, "high": 4},
        ],
        replicate_split=True,
    )
    # when
    plan = plan_sweep(config)
    # then: the second centre run has its own split and training seed
    centre = [j for j in plan.jobs if all(v == 0 for v in j.coded.values())]
    assert sorted((j.config.split.seed, j.config.split.model_seed) for j in centre) == [
        (42, 42),
        (43, 43),
    ]


def test_sweep_points_cross_validate_by_default() -> None:
    # given: a scikit-learn sweep that says nothing about folds, and one that turns them off
    default = plan_sweep(sweep())
    off = plan_sweep(sweep(cv_folds=0))
    # then: 5 folds on every point, the response is the CV mean; off: the test score
    assert {j.config.split.folds for j in default.jobs} == {5}
    assert default.response("accuracy") == "cv.accuracy"
    assert default.response("train_seconds") == "train_seconds"
    assert {j.config.split.folds for j in off.jobs} == {0}
    assert off.response("accuracy") == "accuracy"
    assert default.digest != off.digest


def test_replicates_keep_the_seed_when_asked() -> None:
    # given
    config = sweep(design={"kind": "full_factorial", "replicates": 2, "replicate_seeds": False})
    # when
    plan = plan_sweep(config)
    # then
    assert len(plan.jobs) == 8
    assert {j.config.split.model_seed for j in plan.jobs} == {plan.base.split.seed}
