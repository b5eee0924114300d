"""`SweepConfig`: a design of experiments over a training config, validated at the edge.

A sweep names a base training config, the factors it varies (dotted paths
into `TrainConfig`), the design and the objective. `plan_sweep` turns it into
the list of training configs to run, validating every one of them, so a bad
factor path or a value no estimator accepts fails before any run starts.

No Prefect and no MLflow here: the CLI validates with this module alone.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    ValidationError,
    field_validator,
    model_validator,
)

from flows.config.sweep_checks import (
    check_metric,
    check_model,
    check_sweep_before_data,
    check_sweep_data_task,
)
from flows.config.train import TrainConfig, known_task
from libs.config import format_validation_error, load_config, read_yaml
from libs.crossval import cv_name
from libs.doe import (
    Design,
    DesignSpec,
    Factor,
    FactorSpace,
    generate_design,
    set_dotted,
)
from libs.doe.responses import ResponseGoal
from libs.errors import InputError
from libs.metrics import greater_is_better
from libs.metrics.cost import COST_METRICS
from libs.studies import explicit_design


class Objective(BaseModel):
    """The metric a sweep optimises; its direction defaults to the metric's own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str = Field(description="A metric the training run computes (accuracy, r2, ...).")
    direction: Literal["maximize", "minimize"] | None = Field(
        None, description="Default: maximize scores, minimize errors and losses."
    )

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, metric: str) -> str:
        greater_is_better(metric)  # raises InputError (a ValueError) for an unknown name
        return metric

    @model_validator(mode="after")
    def _direction_matches_metric(self) -> Objective:
        natural = "maximize" if greater_is_better(self.metric) else "minimize"
        if self.direction is not None and self.direction != natural:
            raise InputError(
                f"direction: '{self.direction}' contradicts {self.metric} "
                f"(the registry gate treats {'higher' if natural == 'maximize' else 'lower'} "
                f"as better); use '{natural}' or leave it out"
            )
        return self

    @property
    def maximize(self) -> bool:
        return greater_is_better(self.metric)


class StudyStage(BaseModel):
    """An earlier stage of a sequential study: its parent MLflow run and sweep id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stage: int = Field(ge=1)
    step: str = Field(description="How the stage came about: screen, fold_over, augment, next.")
    run_id: str
    sweep_id: str
    design: str
    runs: int = Field(ge=0)


class StageRuns(BaseModel):
    """The explicit runs of a model-based stage (set by --path and --next --model gp).

    `path`: single runs along the path of steepest ascent, trained in batches
    until a batch brings no improvement. `gp`: every earlier run of the study
    (reused, not retrained) and a batch proposed by expected improvement.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["path", "gp"]
    points: list[dict[str, Any]] = Field(min_length=1, description="Natural values per run.")
    block: list[int] = Field(default_factory=list, description="The stage of each run.")
    new: int = Field(ge=1, description="How many runs, at the end, are this stage's own.")


class Study(BaseModel):
    """The lineage of a sweep that continues earlier ones (fold-over, augmentation, next)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    step: Literal["fold_over", "augment", "next", "path", "gp"]
    stages: list[StudyStage] = Field(min_length=1, description="The earlier stages, in order.")

    @property
    def stage(self) -> int:
        return len(self.stages) + 1

    @property
    def reuse_ids(self) -> list[str]:
        """Sweep ids whose finished points this stage reuses (newest first)."""
        return [s.sweep_id for s in reversed(self.stages)]


def natural_goal(metric: str) -> str:
    """A response's default goal: its metric's direction; the cost metrics are minimised."""
    if metric in COST_METRICS:
        return "minimize"
    return "maximize" if greater_is_better(metric) else "minimize"


class SweepConfig(BaseModel):
    """A DOE sweep: base training config, factors, design, objective and how to run it.

    The training config of every point is `base` (a training YAML; default the
    embedded defaults), then `train` deep-merged over it, then the point's
    factor values set at their dotted paths.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(None, description="Run name of the sweep; default '<model>-<design>'.")
    base: str | None = Field(
        None, description="Training YAML the points start from (path relative to the cwd)."
    )
    train: dict[str, Any] = Field(
        default_factory=dict,
        description="Training config fields deep-merged over `base` (e.g. data.max_rows).",
    )
    factors: list[Factor] = Field(description="What varies: dotted paths into the training config.")
    design: DesignSpec
    objective: Objective
    concurrency: int | None = Field(
        None,
        ge=1,
        description="Points trained at once (local mode); default: the number of cores "
        "(1 for TensorFlow).",
    )
    workers: Literal["processes", "threads"] = Field(
        "processes",
        description="Where local points train when several run at once: 'processes' (worker "
        "processes that have the imports done, so points really run in parallel) or "
        "'threads' (in the sweep's own process).",
    )
    log_models: Literal["best", "all"] = Field(
        "best",
        description="'best': points log params, metrics, tags and datasets, and the best point "
        "also its model and report; 'all': every point logs its model and report.",
    )
    mode: Literal["local", "deployment"] = Field(
        "local", description="'local': sub-flows in this process; 'deployment': run_deployment."
    )
    deployment_name: str | None = Field(
        None, description="'<flow>/<deployment>' of the training flow (deployment mode)."
    )
    point_timeout_s: PositiveFloat | None = Field(
        None, description="Deployment mode: seconds to wait for one point (default: no limit)."
    )
    register_best: bool = Field(
        True, description="Register the best point's model behind the registry gate."
    )
    responses: list[ResponseGoal] = Field(
        default_factory=list,
        description="Responses analysed each on its own and combined by Derringer-Suich "
        "desirability: any metric the run logs, or train_seconds, predict_ms_per_row, "
        "model_size_bytes. Empty: the objective alone.",
    )
    study: Study | None = Field(
        None, description="Earlier stages of a sequential study (set by --fold-over etc.)."
    )
    cv_folds: int | None = Field(
        None,
        ge=0,
        le=20,
        description="k-fold cross-validation on the training split for every point: the "
        "mean of the folds is the response the analysis uses (`cv.<metric>`), the test split "
        "stays for the chosen model. Default: the base's `split.cv_folds`, else 5 "
        "(scikit-learn models; a Keras model's folds would each train a network: off); "
        "0 or 1: off, the test-split score is the response.",
    )
    runs: StageRuns | None = Field(
        None,
        description="Explicit runs of a path or GP stage (set by --path, --next --model gp); "
        "`design` then stays the study's first-order design.",
    )
    replicate_split: bool = Field(
        False,
        description="Replicated runs re-split the data (`split.seed` + the replicate "
        "number) instead of only re-seeding the training; the results table then shows "
        "each run's seeds and settings are ranked by their mean.",
    )

    @field_validator("responses")
    @classmethod
    def _distinct_responses(cls, responses: list[ResponseGoal]) -> list[ResponseGoal]:
        names = [r.metric for r in responses]
        for r in responses:
            if r.metric not in COST_METRICS:
                try:
                    greater_is_better(r.metric)
                except ValueError:
                    raise InputError(
                        f"responses: unknown metric {r.metric!r} (a metric of the task's "
                        f"set, or one of {', '.join(COST_METRICS)})"
                    ) from None
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise InputError(f"responses: {', '.join(dup)} named twice")
        return responses

    @field_validator("factors")
    @classmethod
    def _valid_space(cls, factors: list[Any]) -> list[Any]:
        try:
            FactorSpace(factors=factors)
        except ValidationError as exc:
            message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
            raise ValueError(message.removeprefix("factors: ")) from None
        return factors

    @model_validator(mode="after")
    def _deployment_named(self) -> SweepConfig:
        if self.mode == "deployment" and not self.deployment_name:
            raise InputError("deployment_name: required when mode is 'deployment'")
        return self

    @property
    def space(self) -> FactorSpace:
        return FactorSpace(factors=self.factors)

    def base_data(self) -> dict[str, Any]:
        """The base training config as a mapping: the YAML, then `train` merged over it."""
        data = read_yaml(self.base) if self.base else {}
        return deep_merge(data, self.train)

    def resolved(self) -> SweepConfig:
        """The same sweep with its base YAML merged in, so a later stage needs no file."""
        if self.base is None:
            return self
        return self.model_copy(update={"base": None, "train": self.base_data()})

    @property
    def response_goals(self) -> dict[str, ResponseGoal]:
        """The responses by metric name (the objective alone when none are named)."""
        goals = {r.metric: r for r in self.responses}
        return goals or {self.objective.metric: ResponseGoal(metric=self.objective.metric)}


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` merged into a copy of `base`, mapping by mapping."""
    result = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


@dataclass(frozen=True)
class PointJob:
    """One design point: where it sits in the design and the training config it runs."""

    index: int
    point: dict[str, Any]
    coded: dict[str, float]
    config: TrainConfig
    config_digest: str
    replicate: int = 0


@dataclass(frozen=True)
class SweepPlan:
    """Everything a sweep runs, computed and validated before any run starts."""

    config: SweepConfig
    base: TrainConfig
    design: Design
    jobs: list[PointJob]
    digest: str
    task: str | None
    folds: int = 0

    def response(self, metric: str) -> str:
        """The logged name of the value a point is ranked and analysed on: the
        cross-validated mean (`cv.r2`) when the points cross-validate, else the metric."""
        if self.folds and metric not in COST_METRICS:
            return cv_name(metric)
        return metric

    @property
    def run_name(self) -> str:
        return self.config.name or f"{self.base.registered_model_name}-{self.design.kind}"

    @property
    def concurrency(self) -> int:
        """Points at once: the config's, else the cores (TensorFlow points one at a time)."""
        if self.config.concurrency:
            return self.config.concurrency
        if self.base.model.framework == "tensorflow":
            return 1
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)

    @property
    def worker_processes(self) -> int:
        """Worker processes for the points: 0 means they train in the sweep's threads."""
        local = self.config.mode == "local" and self.base.model.framework != "tensorflow"
        if local and self.config.workers == "processes" and self.concurrency > 1:
            return self.concurrency
        return 0


def sweep_digest(base: TrainConfig, config: SweepConfig) -> str:
    """sha256 of what decides the points' results: base config, factors and design.

    The objective, concurrency, workers and mode are left out, so re-running a
    sweep with another objective or more workers reuses the points already trained.
    """
    canonical = json.dumps(
        {
            "base": base.model_dump(mode="json"),
            "factors": [f.model_dump(mode="json") for f in config.factors],
            "design": config.design.model_dump(mode="json"),
            "cv_folds": sweep_folds(config, base),
            "replicate_split": config.replicate_split,
            "runs": config.runs.model_dump(mode="json") if config.runs else None,
        },
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _validate_train(data: dict[str, Any], where: str) -> TrainConfig:
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as exc:
        raise InputError(format_validation_error(exc, where, TrainConfig)) from None


def _replicate_seeds(
    base: TrainConfig, point: Mapping[str, Any], replicate: int, split: bool
) -> dict[str, int]:
    """The seeds a replicated run changes: `split.train_seed` (base seed + replicate number),
    and `split.seed` too when the sweep asks for split replicates.

    A seeded training run repeated with its seed gives the same metrics, so
    replicates that kept the seed would report zero pure error. Every run of a
    study that is ranked shares one split: a replicate re-seeds the training,
    not the split, unless `replicate_split` says otherwise.
    """
    if replicate == 0:
        return {}
    seeds = {}
    if "split.train_seed" not in point:
        seeds["split.train_seed"] = base.split.model_seed + replicate
    if split and "split.seed" not in point:
        seeds["split.seed"] = base.split.seed + replicate
    return seeds


def sweep_folds(config: SweepConfig, base: TrainConfig) -> int:
    """The points' cross-validation folds (0: off): the sweep's, the base's, else 5."""
    if config.cv_folds is not None:
        return config.cv_folds
    if base.split.cv_folds is not None:
        return base.split.cv_folds
    return 0 if base.model.framework == "tensorflow" else DEFAULT_SWEEP_FOLDS


# A study's response is a cross-validated score (one split's score is mostly split noise).
DEFAULT_SWEEP_FOLDS = 5


def _point_config(
    base: dict[str, Any],
    point: Mapping[str, Any],
    index: int,
    source: str,
    task: str | None,
    seeds: Mapping[str, int] | None = None,
) -> TrainConfig:
    """Apply one point factor by factor, so an error names the factor that caused it."""
    data = copy.deepcopy(base)
    for path, seed in (seeds or {}).items():
        data = set_dotted(data, path, seed)
    for name, value in point.items():
        where = f"{source}: factor '{name}' (point {index}, value {value!r})"
        try:
            data = set_dotted(data, name, value)
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None
        _validate_train(data, where)
    data = set_dotted(data, "tracking.register_model", False)
    config = _validate_train(data, f"{source}: point {index}")
    if task is not None:
        try:
            check_model(config, task)
        except InputError as exc:
            named = [n for n in point if n in str(exc)] or list(point)
            value = ", ".join(f"{n}={point[n]!r}" for n in named)
            raise InputError(
                f"{source}: factor '{named[0]}' (point {index}, {value}): {exc}"
            ) from None
    return config


# -----------------------------------------------------------------------------------------


def plan_sweep(config: SweepConfig, source: str = "sweep") -> SweepPlan:
    """The design and one validated training config per point; raises InputError.

    Checks, in order: the base config, the design (categorical factors in a
    response-surface design, too few factors), each factor path and value, the
    estimator parameters, and that the objective and gate metrics are computed
    for the task.
    """
    base_data = config.base_data()
    base = _validate_train(base_data, f"{source}: base")
    check_sweep_before_data(config, base, source)
    task = known_task(base) or check_sweep_data_task(config, base, source)
    check_metric(config.objective.metric, "objective.metric", task, source)
    for response in config.responses:
        if response.metric not in COST_METRICS:
            check_metric(response.metric, "responses.metric", task, source)
    if task is not None:
        check_metric(base.gate.metric_for(task), "gate.metric", task, f"{source}: base")
        try:
            check_model(base, task)
        except InputError as exc:
            raise InputError(f"{source}: base: {exc}") from None
    concurrency = config.concurrency or 1
    if base.model.framework == "tensorflow" and concurrency > 1 and config.mode == "local":
        raise InputError(
            f"{source}: concurrency: TensorFlow points run one at a time in one process "
            "(Keras seeding is process-wide); set concurrency: 1 or mode: deployment"
        )
    design = (
        explicit_design(config.space, config.runs.kind, config.runs.points, config.runs.block)
        if config.runs
        else generate_design(config.space, config.design)
    )
    full = set_dotted(base.model_dump(mode="json"), "split.cv_folds", sweep_folds(config, base))
    jobs = []
    for index, point in enumerate(design.points):
        replicate = design.replicate[index] if design.replicate else 0
        seeds = (
            _replicate_seeds(base, point, replicate, config.replicate_split)
            if config.design.replicate_seeds
            else {}
        )
        train = _point_config(full, point, index, source, task, seeds)
        coded = {k: float(v) for k, v in design.coded.iloc[index].items()}
        jobs.append(PointJob(index, dict(point), coded, train, train.digest(), replicate))
    folds = jobs[0].config.split.folds if jobs else 0
    return SweepPlan(config, base, design, jobs, sweep_digest(base, config), task, folds)


def load_sweep_config(path: str | Path | None, overrides: Sequence[str] = ()) -> SweepConfig:
    """YAML plus `--set` overrides, validated once (the plan is checked separately)."""
    if path is None:
        raise InputError("--config: a sweep needs a config file (see configs/sweeps/)")
    return load_config(SweepConfig, path, overrides)


__all__ = [
    "Objective",
    "PointJob",
    "StageRuns",
    "Study",
    "StudyStage",
    "SweepConfig",
    "SweepPlan",
    "deep_merge",
    "load_sweep_config",
    "natural_goal",
    "plan_sweep",
    "sweep_digest",
    "sweep_folds",
]
