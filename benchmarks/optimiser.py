"""The peers of a study: Optuna's TPE and random search on the study's own objective.

Each trial is scored exactly as a study's point is: k-fold cross-validation on
the training split (`libs.crossval`, folds seeded by the split's seed), over the
same factor ranges, and logged to MLflow as a user would (one parent run, one
nested run a trial with its parameters and score). Optuna is a benchmark
dependency (`pip install -e '.[bench]'`), never a platform one.

A selected setting is then judged on data no optimiser saw: fitted on the
training split and scored on the test split, and its mean over re-splits
(other seeds of the same test size), which is what a model's quality is.
"""

from __future__ import annotations

import contextlib
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from flows.config.sweep import SweepConfig
from flows.config.train import TrainConfig
from libs.crossval import cross_validate
from libs.datasets import load_bundled, split_frame, subsample
from libs.datasets.core import infer_task
from libs.doe import CategoricalFactor, ContinuousFactor, IntegerFactor, apply_point
from libs.features import build_preprocessor
from libs.metrics import compute_metrics, greater_is_better
from libs.models import create_model


@dataclass(frozen=True)
class Problem:
    """A study's objective without the platform: its data, base config, factors, metric."""

    name: str
    sweep: SweepConfig
    frame: pd.DataFrame
    folds: int

    @property
    def metric(self) -> str:
        return self.sweep.objective.metric

    @property
    def maximize(self) -> bool:
        return greater_is_better(self.metric)

    def config(self, setting: Mapping[str, Any], *, split_seed: int | None = None) -> TrainConfig:
        data = apply_point(self.sweep.base_data(), setting)
        if split_seed is not None:
            data = apply_point(data, {"split.seed": split_seed})
        return TrainConfig.model_validate(data)


def load_problem(name: str, sweep: SweepConfig, folds: int = 5) -> Problem:
    base = TrainConfig.model_validate(sweep.base_data())
    frame = load_bundled(base.data.source)
    frame = subsample(frame, base.data.max_rows, base.split.seed)
    return Problem(name, sweep, frame, folds)


def _task(config: TrainConfig, frame: pd.DataFrame) -> str:
    return str(infer_task(config.data, frame[config.data.target_column]))


def cv_score(problem: Problem, setting: Mapping[str, Any]) -> float:
    """The study's response for `setting`: the mean of k-fold CV on the training split."""
    config = problem.config(setting)
    task = _task(config, problem.frame)
    split = split_frame(problem.frame, config.data.target_column, task, config.split)  # type: ignore[arg-type]
    cv = cross_validate(
        config.model,
        config.features,
        split.x_train,
        split.y_train,
        task,
        folds=problem.folds,
        split_seed=config.split.seed,
        train_seed=config.split.model_seed,
        stratify=config.split.stratify,
    )
    return cv.mean(problem.metric)


def holdout_score(problem: Problem, setting: Mapping[str, Any], split_seed: int) -> float:
    """Fit on the training part of the split seeded `split_seed`, score its test part."""
    config = problem.config(setting, split_seed=split_seed)
    task = _task(config, problem.frame)
    split = split_frame(problem.frame, config.data.target_column, task, config.split)  # type: ignore[arg-type]
    pre = build_preprocessor(config.features, split.x_train)
    train = pre.fit_transform(split.x_train, split.y_train)
    test = pre.transform(split.x_test)
    model = create_model(config.model, task, seed=config.split.model_seed)
    model = model.fit(train, split.y_train.to_numpy())
    metrics = compute_metrics(
        task,  # type: ignore[arg-type]
        split.y_test.to_numpy(),
        model.predict(test),
        model.predict_proba(test),
        labels=model.classes,  # type: ignore[arg-type]
    )
    return float(metrics[problem.metric])


@dataclass
class Selection:
    """One method's pick: the setting, its CV score, test score and re-split mean."""

    method: str
    seed: int | None
    setting: dict[str, Any]
    trainings: int
    cv: float
    wall_s: float
    test: float = float("nan")
    resplit_mean: float = float("nan")
    resplits: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def judge(problem: Problem, selection: Selection, test_seed: int, resplit_seeds: list[int]) -> None:
    """Fill in the selection's test score and its mean over re-splits.

    Two splits at a time (threads: the fits release the GIL): judging is not timed, and
    5 seeds x 2 samplers x 3 problems x 11 fits is most of the benchmark's untimed wall."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        scores = list(
            pool.map(
                lambda s: holdout_score(problem, selection.setting, s), [test_seed, *resplit_seeds]
            )
        )
    selection.test, selection.resplits = scores[0], scores[1:]
    selection.resplit_mean = statistics.fmean(selection.resplits)


def _suggest(trial: Any, factor: Any) -> Any:
    if isinstance(factor, ContinuousFactor):
        return trial.suggest_float(factor.name, factor.low, factor.high, log=factor.scale == "log")
    if isinstance(factor, IntegerFactor):
        return trial.suggest_int(factor.name, factor.low, factor.high)
    if isinstance(factor, CategoricalFactor):
        return trial.suggest_categorical(factor.name, list(factor.levels))
    raise TypeError(f"factor {factor.name}: no Optuna distribution for {type(factor).__name__}")


@contextlib.contextmanager
def _mlflow_parent(tracking_uri: str, experiment: str, name: str) -> Iterator[Callable[..., None]]:
    """A parent MLflow run; yields `log_trial(number, params, score)` for nested runs."""
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient(tracking_uri)
    found = client.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found else client.create_experiment(experiment)
    parent = client.create_run(experiment_id, run_name=name)
    lock = threading.Lock()

    def log_trial(number: int, params: Mapping[str, Any], metric: str, score: float) -> None:
        with lock:  # the client is thread-safe; the lock keeps SQLite writes short
            child = client.create_run(
                experiment_id,
                run_name=f"trial-{number}",
                tags={"mlflow.parentRunId": parent.info.run_id},
            )
        client.log_batch(
            child.info.run_id,
            params=[mlflow.entities.Param(k, str(v)) for k, v in params.items()],
            metrics=[mlflow.entities.Metric(f"cv.{metric}", score, int(time.time() * 1000), 0)],
        )
        client.set_terminated(child.info.run_id)

    try:
        yield log_trial
    finally:
        client.set_terminated(parent.info.run_id)


def run_optuna(
    problem: Problem,
    sampler_name: str,
    seed: int,
    trials: int,
    n_jobs: int,
    tracking_uri: str,
) -> Selection:
    """Optuna at the study's budget: `trials` CV-scored trials, `n_jobs` at once."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = (
        optuna.samplers.TPESampler(seed=seed)
        if sampler_name == "tpe"
        else optuna.samplers.RandomSampler(seed=seed)
    )
    study = optuna.create_study(
        direction="maximize" if problem.maximize else "minimize", sampler=sampler
    )
    started = time.perf_counter()
    with _mlflow_parent(tracking_uri, f"optuna-{problem.name}", f"{sampler_name}-{seed}") as log:

        def objective(trial: Any) -> float:
            setting = {f.name: _suggest(trial, f) for f in problem.sweep.factors}
            score = cv_score(problem, setting)
            log(trial.number, setting, problem.metric, score)
            return score

        study.optimize(objective, n_trials=trials, n_jobs=n_jobs)
    wall = time.perf_counter() - started
    return Selection(
        method=f"optuna-{sampler_name}",
        seed=seed,
        setting=dict(study.best_params),
        trainings=trials,
        cv=float(study.best_value),
        wall_s=wall,
    )


def seed_spread(values: list[float]) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


__all__ = [
    "Problem",
    "Selection",
    "cv_score",
    "holdout_score",
    "judge",
    "load_problem",
    "run_optuna",
    "seed_spread",
]
