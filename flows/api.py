"""The platform from Python or a notebook: `train`, `sweep`, a study's stages and `predict`.

    from flows.api import confirm, next_stage, predict, sweep, train

    summary = train("configs/iris_random_forest.yaml", overrides=["model.params.n_estimators=50"])
    print(summary.run_url)

    stage = sweep("configs/sweeps/diabetes_gbr_study.yaml")
    stage.best_params, stage.recommendation, stage.effects, stage.next_command
    print(stage)  # the summary as the terminal shows it (a notebook shows it as a table)
    stage = next_stage(stage.sweep_id, step="fold_over")
    confirmed = confirm(stage.sweep_id, runs=3)

Each takes a config (the object, or a YAML path plus `--set`-style overrides),
runs the same flow as its command line and returns the same typed summary.
Like the command line, it uses the servers of `make serve` when they run
(`<MLOPS_HOME>/serve/servers.json`): MLflow runs land in the store the UI
shows and the Prefect runs in its server; with nothing running, the local
Prefect server is started (or reused) and MLflow logs to SQLite under
`MLOPS_HOME`. Bad input raises `libs.errors.InputError` naming the field.
As quiet as the command line: Prefect's and MLflow's log lines go to the log
file under `<MLOPS_HOME>/logs/`; pass `verbose=True` to see them in a notebook.

A study's stages in one process share its point workers: the first `sweep`
or `next_stage` starts them and later stages reuse them (a new set costs a
fork server's imports and each worker opening the tracking store again,
about 10 s a stage on two cores); they end with the process, or at
`close_workers()`. A stage called while another runs in a second thread gets
workers of its own, as before.

An entry point like the command lines: it may import the process management
(`deployments.runtime`); flow and task modules may not.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flows.cli import api_logging

if TYPE_CHECKING:
    from flows.config.predict import PredictConfig
    from flows.config.sweep import SweepConfig
    from flows.config.train import TrainConfig
    from libs.scoring import BatchSummary
    from libs.study_results import ConfirmationResult, StageSummary
    from tasks.report import RunSummary


def train(
    config: TrainConfig | str | Path | None = None,
    *,
    overrides: Sequence[str] = (),
    refresh_cache: bool = False,
    verbose: bool = False,
) -> RunSummary:
    """Train, evaluate and register; `config` None means the embedded defaults."""
    from deployments.runtime import local_prefect
    from flows.config.train import TrainConfig, load_train_config
    from flows.runs.train import run_training

    if not isinstance(config, TrainConfig):
        config = load_train_config(None if config is None else str(config), list(overrides))
    elif overrides:
        raise TypeError("overrides apply to a config file; change a TrainConfig with model_copy")
    with api_logging("training", verbose), local_prefect() as settings:
        return run_training(config, refresh_cache=refresh_cache, settings=settings)


def sweep(
    config: SweepConfig | str | Path, *, overrides: Sequence[str] = (), verbose: bool = False
) -> StageSummary:
    """Run a DOE sweep from a sweep config (object or YAML path): a study's first stage.

    Returns its typed summary: `best_params`, `best_value` (the mean response of
    the best setting), `recommendation` (every factor, `predicted`, `interval`:
    the 95% prediction interval), `effects` (a DataFrame), `next_command` and
    `confirm` (the exact commands of the next stage and of its confirmation).
    """
    from deployments.runtime import local_prefect
    from flows.config.sweep import SweepConfig, load_sweep_config, plan_sweep
    from flows.runs.sweep import run_sweep

    if not isinstance(config, SweepConfig):
        config = load_sweep_config(str(config), list(overrides))
    elif overrides:
        raise TypeError("overrides apply to a config file; change a SweepConfig with model_copy")
    plan = plan_sweep(config)
    with (
        api_logging("sweep", verbose),
        local_prefect() as settings,
        _point_workers(plan, settings) as executor,
    ):
        return run_sweep(config, plan, executor, settings)


def next_stage(
    sweep_id: str,
    *,
    step: str = "next",
    on: str | None = None,
    factors: Sequence[str] = (),
    steps: int | None = None,
    runs: int | None = None,
    overrides: Sequence[str] = (),
    verbose: bool = False,
    to: str = "ccd",
    model: str | None = None,
) -> StageSummary:
    """Run the next stage of a study from a finished stage (sweep id or parent run id).

    `step`: "fold_over" (`on`: one factor), "augment" (to a CCD; `factors`: the
    surface), "next" (a design along the path, or around a path's best run),
    "path" (single runs along the path of steepest ascent, at most `steps`) or
    "gp" (a batch of `runs` by expected improvement); "augment" with `to="optimal"`
    adds `runs` D-optimal runs for `model` to any design. The same stages as
    `python -m flows.sweep --fold-over/--augment/--next/--path/--next --model gp`.
    """
    from deployments.runtime import local_prefect
    from flows.config.stages import ARGUMENT, lineage_ids
    from flows.config.stages import next_stage as plan_next_stage
    from flows.config.sweep import plan_sweep
    from flows.runs.sweep import run_sweep
    from libs.errors import InputError
    from libs.settings import PlatformSettings
    from tasks.sweep_records import find_sweep

    if step not in ARGUMENT:
        raise InputError(f"step: one of {', '.join(ARGUMENT)}, got {step!r}")
    read = PlatformSettings()
    earlier = find_sweep(read, sweep_id, ARGUMENT[step])
    history = (
        [find_sweep(read, i, ARGUMENT[step]) for i in lineage_ids(earlier)] if step == "gp" else []
    )
    config, _ = plan_next_stage(
        earlier,
        step,  # type: ignore[arg-type]
        on=on,
        factors=factors,
        overrides=overrides,
        steps=steps,
        runs=runs,
        history=history,
        to=to,  # type: ignore[arg-type]
        model=model,
    )
    plan = plan_sweep(config, ARGUMENT[step])
    with (
        api_logging("sweep", verbose),
        local_prefect() as settings,
        _point_workers(plan, settings) as executor,
    ):
        return run_sweep(config, plan, executor, settings)


# The point workers this process's stages share (see the module docstring): one set,
# lent to one stage at a time; a stage that finds them lent out starts its own.
_KEPT: dict[str, Any] = {}
_KEPT_LOCK = threading.Lock()


@contextlib.contextmanager
def _point_workers(plan: Any, settings: Any) -> Iterator[Any]:
    """The sweep's worker processes (None: threads), kept for the process's next stage."""
    from flows.sweep import point_workers

    if not plan.worker_processes:
        yield None
        return
    key = _workers_key(plan, settings)
    with _KEPT_LOCK:
        pool = _KEPT.get("pool")
        lent = pool is not None and _KEPT.get("lent", False)
        stale = pool is not None and not lent and _KEPT.get("key") != key
        if not lent:
            _KEPT["lent"] = True
    if lent:  # another stage of this process holds them: workers of its own, as before
        with point_workers(plan, settings) as own:
            yield own
        return
    try:
        if stale:
            _close_workers()
            pool = None
        if pool is None:
            # Started as `python -m flows.sweep` starts them (the store created first, so
            # forked workers inherit it open), then kept open until the process ends.
            stack = contextlib.ExitStack()
            pool = stack.enter_context(point_workers(plan, settings))
            with _KEPT_LOCK:
                _KEPT["pool"], _KEPT["stack"], _KEPT["key"] = pool, stack, key
                if not _KEPT.get("at_exit"):
                    atexit.register(_close_workers)
                    _KEPT["at_exit"] = True
        yield pool
    finally:
        with _KEPT_LOCK:
            _KEPT["lent"] = False


def _workers_key(plan: Any, settings: Any) -> tuple[int, str, str]:
    """What kept workers must share with a stage: their number, the Prefect server and the
    tracking store (a worker keeps its Prefect client and MLflow store once opened)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url  # None: the temporary server this process started
    url = url or str(get_client(sync_client=True).api_url)
    return plan.worker_processes, str(url).rstrip("/"), settings.resolved_tracking_uri


def close_workers() -> None:
    """End the point workers this process keeps for a study's next stage, now (they end
    with the process otherwise): a notebook done with its study, or a benchmark that runs
    something else beside them. A later stage starts new ones."""
    _close_workers()


def _close_workers() -> None:
    """End the kept point workers (at exit; they would die with the process anyway)."""
    with _KEPT_LOCK:
        _KEPT.pop("pool", None)
        stack = _KEPT.pop("stack", None)
    if stack is not None:
        stack.close()


def confirm(
    sweep_id: str, *, runs: int = 3, gated: bool = True, verbose: bool = False
) -> ConfirmationResult:
    """Train a stage's recommendation `runs` times (own training seeds, the study's split),
    check each test score against its 95% prediction interval and send the median run
    through the gate (`python -m flows.sweep --confirm SWEEP --runs N`)."""
    from deployments.runtime import local_prefect
    from flows.runs.confirm import confirmation_inputs, run_confirm
    from libs.settings import PlatformSettings

    planned, responses, parent = confirmation_inputs(PlatformSettings(), sweep_id, runs)
    with api_logging("sweep", verbose), local_prefect() as settings:
        return run_confirm(planned, responses, gated, parent, settings=settings)


def predict(
    config: PredictConfig | None = None, *, verbose: bool = False, **fields: Any
) -> BatchSummary:
    """Score a table: a `PredictConfig`, or its fields (`model=`, `input=`, `output=`, ...)."""
    from deployments.runtime import local_prefect
    from flows.config.predict import PredictConfig
    from flows.runs.predict import batch_predict
    from libs.config import validate

    if config is None:
        config = validate(PredictConfig, fields, "arguments")
    elif fields:
        raise TypeError("give a PredictConfig or its fields, not both")
    with api_logging("predict", verbose), local_prefect() as settings:
        return batch_predict(config, settings=settings)


__all__ = ["close_workers", "confirm", "next_stage", "predict", "sweep", "train"]
