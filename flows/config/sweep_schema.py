"""The sweep config's schema: `SweepConfig` and its parts (objective, study, explicit runs).

A sweep names a base training config, the factors it varies (dotted paths
into `TrainConfig`), the design and the objective. Validating it checks each
field on its own; `flows.config.sweep.plan_sweep` checks the points it makes.

No Prefect and no MLflow here: the CLI validates with this module alone.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
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

from libs.config import read_yaml
from libs.doe import DesignSpec, Factor, FactorSpace
from libs.doe.responses import ResponseGoal
from libs.errors import InputError
from libs.metrics import greater_is_better
from libs.metrics.cost import COST_METRICS


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

    @property
    def lean_points(self) -> bool:
        """Whether the points run lean (params, metrics and tags; the best completed at the
        end): local mode without `log_models: all` (a deployment run trains in full)."""
        return self.log_models != "all" and self.mode == "local"

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


__all__ = [
    "Objective",
    "StageRuns",
    "Study",
    "StudyStage",
    "SweepConfig",
    "deep_merge",
    "natural_goal",
]
