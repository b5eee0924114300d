"""Study vs optimiser at equal trainings (`make bench`, case `study`).

For each problem (benchmarks/configs/study_*.yaml) the platform runs a study
from Python as a notebook would (`flows.api`): the screening design of the
config, model-based (Gaussian-process) stages, then `confirm`, which trains the
recommendation several times and checks it against its 95% prediction
interval. Optuna's TPE and random search then get the same number of
trainings (every point of the study and its confirmation runs), on the same
cross-validated objective and factor ranges, at the same concurrency, each
trial logged to MLflow as a nested run (benchmarks/optimiser.py), 5 seeds each.

Every selection is judged on data no method saw: fitted on the training split,
scored on the test split, and its mean over 10 re-splits.

    python -m benchmarks.study [--problems diabetes_gbr,breast_cancer_rf,wine_svm]
                               [--seeds 5] [--gp-runs 8] [--gp-stages 1] [--confirm-runs 3]

Writes benchmarks/results/study_vs_optuna.md and .json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.study_table import write_results

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
PROBLEMS = {
    "diabetes_gbr": "benchmarks/configs/study_diabetes_gbr.yaml",
    "breast_cancer_rf": "benchmarks/configs/study_breast_cancer_rf.yaml",
    "wine_svm": "benchmarks/configs/study_wine_svm.yaml",
}
TEST_SEED = 42
RESPLIT_SEEDS = list(range(100, 110))


def _isolated_home(work: Path, name: str) -> Path:
    """A fresh platform home for one problem's study (its own stores, its own server)."""
    home = work / name
    os.environ["MLOPS_HOME"] = str(home)
    for var in ("MLOPS_TRACKING_URI", "MLFLOW_TRACKING_URI", "PREFECT_API_URL"):
        os.environ.pop(var, None)
    return home


def run_study(
    config_path: str, gp_runs: int, gp_stages: int, confirm_runs: int
) -> tuple[Any, dict[str, Any]]:
    """The platform's study from Python: screen, GP stages, confirm. (Selection, details)."""
    from benchmarks.optimiser import Selection
    from deployments.runtime import local_prefect
    from flows import api

    # Imported before the clock starts, as Optuna is before its own (Prefect, MLflow and
    # the flows: about 5-9 s on two busy cores, once a process).
    importlib.import_module("flows.runs.sweep")
    importlib.import_module("flows.runs.confirm")
    importlib.import_module("flows.runs.frameworks")
    # The local Prefect server starts once per machine (a user's later studies find it
    # running): timed on its own, not as part of the study.
    began = time.perf_counter()
    with local_prefect():
        pass
    server_s = time.perf_counter() - began
    started = time.perf_counter()
    stages = [api.sweep(config_path)]
    walls = [time.perf_counter() - started]
    for _ in range(gp_stages):
        began = time.perf_counter()
        stages.append(api.next_stage(stages[-1].sweep_id, step="gp", runs=gp_runs))
        walls.append(time.perf_counter() - began)
    began = time.perf_counter()
    confirmed = api.confirm(stages[-1].sweep_id, runs=confirm_runs)
    walls.append(time.perf_counter() - began)
    wall = time.perf_counter() - started
    trained = sum(s.points - s.reused for s in stages)
    scores = [r.value for r in confirmed.runs if r.value is not None]
    rec = stages[-1].recommendation
    interval = confirmed.interval or (float("nan"), float("nan"))
    selection = Selection(
        method="study",
        seed=None,
        setting=dict(confirmed.settings),
        trainings=trained + len(confirmed.runs),
        cv=float(confirmed.predicted) if confirmed.predicted is not None else float("nan"),
        wall_s=wall,
    )
    details = {
        "stages": [s.sweep_id[:12] for s in stages],
        "points": trained,
        "interval": list(interval),
        "source": getattr(rec, "source", ""),
        "confirm_scores": scores,
        "inside": confirmed.inside,
        "confirmed": confirmed.verdict,
        "stage_walls": [round(w, 1) for w in walls],
        "server_start_s": round(server_s, 1),
    }
    return selection, details


def compare(problem: str, study: Any, details: dict[str, Any], peers: list[Any]) -> dict[str, Any]:
    """The per-problem row: each method's mean over seeds, and whether the targets hold."""
    by: dict[str, list[Any]] = {}
    for s in peers:
        by.setdefault(s.method, []).append(s)
    row: dict[str, Any] = {
        "problem": problem,
        "trainings": study.trainings,
        "study": asdict(study),
        "details": details,
        "methods": {},
    }
    for method, picks in by.items():
        means = [p.resplit_mean for p in picks]
        row["methods"][method] = {
            "seeds": len(picks),
            "cv": statistics.fmean(p.cv for p in picks),
            "test": statistics.fmean(p.test for p in picks),
            "resplit_mean": statistics.fmean(means),
            "resplit_sd_over_seeds": statistics.stdev(means) if len(means) > 1 else 0.0,
            "wall_s": statistics.fmean(p.wall_s for p in picks),
            "picks": [asdict(p) for p in picks],
        }
    return row


def _better(a: float, b: float, maximize: bool) -> bool:
    return a >= b if maximize else a <= b


def verdicts(rows: list[dict[str, Any]], maximize: dict[str, bool]) -> dict[str, Any]:
    """The issue's targets over all problems."""
    beats_tpe = 0
    within_random = 0
    inside = total = 0
    wall_ratios = []
    for row in rows:
        up = maximize[row["problem"]]
        ours = row["study"]["resplit_mean"]
        tpe = row["methods"]["optuna-tpe"]
        rnd = row["methods"]["optuna-random"]
        if _better(ours, tpe["resplit_mean"], up):
            beats_tpe += 1
        gap = (rnd["resplit_mean"] - ours) if up else (ours - rnd["resplit_mean"])
        if gap <= rnd["resplit_sd_over_seeds"]:
            within_random += 1
        inside += row["details"]["inside"]
        total += len(row["details"]["confirm_scores"])
        wall_ratios.append(row["study"]["wall_s"] / tpe["wall_s"])
    return {
        "study_at_least_tpe": f"{beats_tpe} of {len(rows)} (target: at least 2 of 3)",
        "never_worse_than_random_by_1sd": f"{within_random} of {len(rows)} (target: all)",
        "confirmations_inside_95pi": f"{inside} of {total} (target: at least 90%)",
        "wall_ratio_study_to_tpe": [round(r, 2) for r in wall_ratios],
    }


def _kept_rows(run_now: list[str]) -> list[dict[str, Any]]:
    """The earlier results' rows for the problems not run now (`--merge`)."""
    path = RESULTS / "study_vs_optuna.json"
    if not path.exists():
        return []
    rows: list[dict[str, Any]] = json.loads(path.read_text())["rows"]
    return [r for r in rows if r["problem"] not in run_now]


def _ordered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows in the order of PROBLEMS."""
    order = list(PROBLEMS)
    return sorted(rows, key=lambda r: order.index(r["problem"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.study", description=__doc__)
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--gp-runs", type=int, default=8)
    parser.add_argument("--gp-stages", type=int, default=1)
    parser.add_argument("--confirm-runs", type=int, default=3)
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the rows of study_vs_optuna.json for the problems not run this time "
        "(each row shows its date and seeds)",
    )
    args = parser.parse_args(argv)

    from benchmarks.optimiser import judge, load_problem, run_optuna
    from flows.config.sweep import load_sweep_config

    rows: list[dict[str, Any]] = []
    maximize: dict[str, bool] = {}
    kept = _kept_rows(args.problems.split(",")) if args.merge else []
    for row in kept:
        maximize[row["problem"]] = load_problem(
            row["problem"], load_sweep_config(PROBLEMS[row["problem"]])
        ).maximize
    with tempfile.TemporaryDirectory(prefix="bench-study-") as tmp:
        work = Path(tmp)
        for name in args.problems.split(","):
            config_path = PROBLEMS[name]
            sweep = load_sweep_config(config_path)
            problem = load_problem(name, sweep)
            maximize[name] = problem.maximize
            print(f"[{name}] study ...", flush=True)
            home = _isolated_home(work, name)
            load_before = os.getloadavg()[0]
            study, details = run_study(config_path, args.gp_runs, args.gp_stages, args.confirm_runs)
            details["load"] = f"{load_before:.1f}-{os.getloadavg()[0]:.1f}"
            from deployments.runtime import stop
            from flows import api

            api.close_workers()  # the study's kept point workers: not left beside Optuna
            stop(home)  # its Prefect server: not left running beside Optuna and the next study
            judge(problem, study, TEST_SEED, RESPLIT_SEEDS)
            peers = []
            uri = f"sqlite:///{work / f'{name}-optuna.db'}"
            for sampler in ("tpe", "random"):
                for seed in range(args.seeds):
                    print(f"[{name}] optuna {sampler} seed {seed} ...", flush=True)
                    pick = run_optuna(
                        problem, sampler, seed, study.trainings, sweep.concurrency or 2, uri
                    )
                    judge(problem, pick, TEST_SEED, RESPLIT_SEEDS)
                    peers.append(pick)
            row = compare(name, study, details, peers)
            row["metric"] = problem.metric
            row["date"] = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {args.seeds} seeds"
            rows.append(row)
            # after each problem, so a long run that is stopped keeps what it measured
            write_results(_ordered(kept + rows), verdicts(_ordered(kept + rows), maximize), args)
    everything = _ordered(kept + rows)
    summary = verdicts(everything, maximize)
    path = write_results(everything, summary, args)
    print(path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
