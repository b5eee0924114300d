"""`make bench`: the platform's commands against plain scripts, as whole processes.

Each case runs several times after a warm-up, interleaved with its baseline so
that drift of the machine cancels out; the table reports median wall time,
the ratio to the baseline measured in the same run, and peak memory (the
largest resident set of the measured process itself; servers it talks to are
not counted). Results go to benchmarks/results/ (markdown table and a PNG).

    python -m benchmarks.run [--repeat 3]
        [--cases default,serve,sweep,sweep-c,cache,help,memory,study]

`study` is the study-vs-optimiser case (benchmarks/study.py): a study through
`flows.api` against Optuna's TPE and random search at equal trainings, on
three problems; it writes benchmarks/results/study_vs_optuna.md.

`sweep` is the full-work 16-point sweep (benchmarks/configs/sweep16.yaml);
`sweep-c` the lean one of issue 20 (benchmarks/configs/sweep_c16.yaml: 16
values of C, the best point's report and model logged and registered). To see
where a sweep's time goes, attach `py-spy record --idle --format raw` to the
process the warm worker forks for it, and start the local Prefect server with
PREFECT_SERVER_LOG_RETRYABLE_ERRORS=true to see its "database is locked" 503s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
RESULTS = REPO / "benchmarks" / "results"


@dataclass
class Sample:
    wall: float
    maxrss_mb: float


@dataclass
class Row:
    case: str
    target: str
    limit: float | None
    ours: list[Sample] = field(default_factory=list)
    base: list[Sample] = field(default_factory=list)
    note: str = ""

    @property
    def ours_median(self) -> float:
        return statistics.median(s.wall for s in self.ours)

    @property
    def base_median(self) -> float | None:
        return statistics.median(s.wall for s in self.base) if self.base else None

    @property
    def ratio(self) -> float | None:
        base = self.base_median
        return self.ours_median / base if base else None

    @property
    def met(self) -> str:
        if self.limit is None or self.ratio is None:
            return ""
        return "met" if self.ratio <= self.limit else "not met"


def measure(argv: list[str], env: dict[str, str], cwd: Path = REPO) -> Sample:
    """Run one process to completion; wall time and peak RSS of what did the work.

    A command handed to the warm worker (deployments.runtime.warm) runs in a process forked
    from it; the thin command reports that process's peak through
    MLOPS_WARM_STATS, and the larger of the two is the run's peak.
    """
    with tempfile.TemporaryDirectory() as tmp:
        stats, log = Path(tmp) / "warm-stats.json", Path(tmp) / "stderr.log"
        with log.open("wb") as errors:  # a file, not a pipe nobody reads while it runs
            start = time.perf_counter()
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env={**env, "MLOPS_WARM_STATS": str(stats)},
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            err = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(argv)} failed:\n{err}")
        peak_kb = usage.ru_maxrss
        if stats.is_file():
            peak_kb = max(peak_kb, json.loads(stats.read_text())["maxrss_kb"])
    return Sample(wall, peak_kb / 1024)


def base_env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MLOPS_", "PREFECT_API", "MLFLOW_"))
    }
    env.update(MLOPS_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", **extra)
    return env


def interleave(
    row: Row, ours: Callable[[], Sample], base: Callable[[], Sample] | None, repeat: int
) -> Row:
    ours()  # warm-up: file caches, compiled bytecode
    if base:
        base()
    for _ in range(repeat):
        row.ours.append(ours())
        if base:
            row.base.append(base())
    return row


def point_overheads(home: Path, experiment: str) -> list[float]:
    """Each point's orchestration overhead in the newest sweep of `experiment` (seconds).

    The point's wall time (sweep/results.csv `seconds`: from the point's start
    to its recorded result) minus its training work (the child run's
    `train_seconds` metric, when the run logs it).
    """
    import pandas as pd
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{home / 'mlflow.db'}")
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return []
    parents = client.search_runs(
        [found.experiment_id],
        filter_string="tags.`sweep.role` = 'parent'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    if not parents:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        path = client.download_artifacts(parents[0].info.run_id, "sweep/results.csv", tmp)
        table = pd.read_csv(path)
    work = table.get("metric.train_seconds", pd.Series(0.0, index=table.index)).fillna(0.0)
    return [float(v) for v in (table["seconds"] - work).dropna()]


def overhead_note(overheads: list[list[float]]) -> str:
    """The worst round's largest point overhead against its median (target <= 3x)."""
    ratios = [max(o) / statistics.median(o) for o in overheads if o and statistics.median(o) > 0]
    if not ratios:
        return ""
    medians = [statistics.median(o) for o in overheads if o]
    return (
        f"point overhead: median {statistics.median(medians):.2f} s, "
        f"largest {max(ratios):.1f}x the median in the worst round (target <= 3x)"
    )


def case_default(work: Path, repeat: int) -> list[Row]:
    """`python -m flows.train` on the defaults vs the baseline script: first and later runs."""
    train = [PY, "-m", "flows.train"]
    baseline = [PY, "-m", "benchmarks.baseline"]
    first = Row("default run, fresh state", "<= 2.5x", 2.5)
    counter = iter(range(10_000))

    def fresh_ours() -> Sample:
        home = work / f"fresh-{next(counter)}"
        try:
            return measure(train, base_env(home))
        finally:
            subprocess.run(
                [PY, "-m", "deployments.serve", "stop"], env=base_env(home), capture_output=True
            )

    def fresh_base() -> Sample:
        return measure([*baseline, str(work / f"fresh-base-{next(counter)}")], base_env(work))

    interleave(first, fresh_ours, fresh_base, repeat)
    later = Row("default run, later runs", "<= 1.4x", 1.4)
    home = work / "later"
    try:
        interleave(
            later,
            lambda: measure(train, base_env(home)),
            lambda: measure([*baseline, str(work / "later-base")], base_env(work)),
            repeat,
        )
    finally:
        subprocess.run(
            [PY, "-m", "deployments.serve", "stop"], env=base_env(home), capture_output=True
        )
    later.note = "reuses the local Prefect server and warm worker the first run left"
    return [first, later]


def case_serve(work: Path, repeat: int) -> list[Row]:
    """The default run with `make serve` running (Prefect and MLflow servers)."""
    home = work / "served"
    env = base_env(home)
    subprocess.run(
        [PY, "-m", "deployments.serve", "start", "--prefect-port", "4390", "--mlflow-port", "5390"],
        env=env,
        check=True,
        capture_output=True,
    )
    try:
        row = Row("default run, make serve running", "<= 1.2x", 1.2)
        return [
            interleave(
                row,
                lambda: measure([PY, "-m", "flows.train"], env),
                lambda: measure(
                    [PY, "-m", "benchmarks.baseline", str(work / "served-base")], base_env(work)
                ),
                repeat,
            )
        ]
    finally:
        subprocess.run([PY, "-m", "deployments.serve", "stop"], env=env, capture_output=True)


def case_sweep(work: Path, repeat: int) -> list[Row]:
    """A 16-point sweep against the plain sequential loop over the same 16 configurations."""
    row = Row("16-point sweep vs plain loop", "<= 1.0x", 1.0)
    counter = iter(range(10_000))
    home = work / "sweep"
    overheads: list[list[float]] = []

    def ours() -> Sample:
        experiment = f"bench-{next(counter)}"
        sample = measure(
            [
                PY,
                "-m",
                "flows.sweep",
                "--config",
                "benchmarks/configs/sweep16.yaml",
                "--no-progress",
                "--set",
                f"train.tracking.experiment={experiment}",
            ],
            base_env(home),
        )
        overheads.append(point_overheads(home, experiment))
        return sample

    try:
        interleave(
            row,
            ours,
            lambda: measure(
                [
                    PY,
                    "-m",
                    "benchmarks.baseline",
                    str(work / f"loop-{next(counter)}"),
                    "--sweep",
                    "16",
                ],
                base_env(work),
            ),
            max(1, repeat - 1),
        )
    finally:
        subprocess.run(
            [PY, "-m", "deployments.serve", "stop"], env=base_env(home), capture_output=True
        )
    row.note = overhead_note(overheads[1:])  # the warm-up round aside
    return [row]


def case_sweep_c(work: Path, repeat: int) -> list[Row]:
    """The issue's sweep (C over 16 values, lean points, best logged and registered) vs a loop."""
    row = Row("16 values of C, lean points, vs plain loop", "<= 1.3x", 1.3)
    counter = iter(range(10_000))
    home = work / "sweep-c"
    overheads: list[list[float]] = []

    def ours() -> Sample:
        experiment = f"bench-c-{next(counter)}"
        sample = measure(
            [
                PY,
                "-m",
                "flows.sweep",
                "--config",
                "benchmarks/configs/sweep_c16.yaml",
                "--no-progress",
                "--set",
                f"train.tracking.experiment={experiment}",
            ],
            base_env(home),
        )
        overheads.append(point_overheads(home, experiment))
        return sample

    try:
        interleave(
            row,
            ours,
            lambda: measure(
                [
                    PY,
                    "-m",
                    "benchmarks.baseline",
                    str(work / f"loop-c-{next(counter)}"),
                    "--lean-sweep",
                    "16",
                ],
                base_env(work),
            ),
            max(1, repeat - 1),
        )
    finally:
        subprocess.run(
            [PY, "-m", "deployments.serve", "stop"], env=base_env(home), capture_output=True
        )
    row.note = "; ".join(
        n
        for n in (
            "the best point's report and model logged and registered; warm worker; "
            "points in worker processes (workers: processes)",
            overhead_note(overheads[1:]),
        )
        if n
    )
    return [row]


def case_cache(work: Path, repeat: int) -> list[Row]:
    """An unchanged config on a ~1M-row dataset: second run (cache hits) vs first."""
    from libs.datasets.synthetic import make_customers

    data = work / "big" / "customers.csv"
    data.parent.mkdir(parents=True, exist_ok=True)
    make_customers(1_000_000, seed=0).to_csv(data, index=False)
    argv = [
        PY,
        "-m",
        "flows.train",
        "--config",
        "configs/customers_csv.yaml",
        "--set",
        f"data.source={data}",
        "--set",
        "model.name=logistic_regression",
        "--set",
        "model.params={}",
    ]
    row = Row("cached re-run, 1M rows, vs first run", "<= 0.5x", 0.5)
    home = work / "cache"
    try:
        for _ in range(max(1, repeat - 1)):
            refresh = measure([*argv, "--refresh-cache"], base_env(home))
            cached = measure(argv, base_env(home))
            row.base.append(refresh)
            row.ours.append(cached)
    finally:
        subprocess.run(
            [PY, "-m", "deployments.serve", "stop"], env=base_env(home), capture_output=True
        )
    row.note = (
        "baseline is the same command with --refresh-cache "
        "(ingest, preprocess and training recomputed)"
    )
    return [row]


def case_help(work: Path, repeat: int) -> list[Row]:
    """`--help` start-up time, and whether a scikit-learn run imports TensorFlow."""
    row = Row("python -m flows.train --help", "< 1 s", None)
    for _ in range(repeat + 1):
        row.ours.append(measure([PY, "-m", "flows.train", "--help"], base_env(work)))
    row.ours.pop(0)
    probe = (
        "import sys, runpy; sys.argv=['flows.train','--set','data.source=iris'];"
        "import atexit; atexit.register(lambda: print('TF_LOADED', 'tensorflow' in sys.modules));"
        "runpy.run_module('flows.train', run_name='__main__')"
    )
    out = subprocess.run(
        [PY, "-c", probe],
        cwd=REPO,
        env=base_env(work / "tfprobe", MLOPS_PREFECT_SERVER="temporary"),
        capture_output=True,
        text=True,
    )
    loaded = "TF_LOADED True" in out.stdout
    median = statistics.median(s.wall for s in row.ours)
    row.note = (
        f"median {median:.2f} s; a scikit-learn run imports TensorFlow: {'yes' if loaded else 'no'}"
    )
    row.target = "< 1 s; no TensorFlow"
    return [row]


def case_memory(rows: list[Row]) -> list[Row]:
    """Peak memory of the default run against the baseline's, from the later-run samples."""
    later = next((r for r in rows if r.case == "default run, later runs"), None)
    if later is None:
        return []
    row = Row("peak memory, default run", "<= 1.2x", 1.2)
    row.ours = [Sample(s.maxrss_mb, s.maxrss_mb) for s in later.ours]
    row.base = [Sample(s.maxrss_mb, s.maxrss_mb) for s in later.base]
    row.note = "values are MiB, not seconds"
    return [row]


CASES: dict[str, Callable[[Path, int], list[Row]]] = {
    "default": case_default,
    "serve": case_serve,
    "sweep": case_sweep,
    "sweep-c": case_sweep_c,
    "cache": case_cache,
    "help": case_help,
}


def machine() -> str:
    mem = ""
    try:
        kb = int(
            next(
                line
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            ).split()[1]
        )
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    python = platform.python_version()
    return (
        f"{platform.machine()}, {os.cpu_count()} cores{mem}, Python {python}, {platform.platform()}"
    )


def write_results(rows: list[Row], repeat: int) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Benchmark results",
        "",
        f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine()}",
        f"- Repeats: {repeat} after one warm-up, interleaved with the baseline; medians.",
        "",
        "| case | ours (s) | baseline (s) | ratio | target | result "
        "| peak RSS ours / base (MiB) | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        base = f"{r.base_median:.2f}" if r.base_median else ""
        ratio = f"{r.ratio:.2f}x" if r.ratio else ""
        rss_o = max((s.maxrss_mb for s in r.ours), default=0)
        rss_b = max((s.maxrss_mb for s in r.base), default=0)
        rss = f"{rss_o:.0f} / {rss_b:.0f}" if rss_b else f"{rss_o:.0f}"
        lines.append(
            f"| {r.case} | {r.ours_median:.2f} | {base} | {ratio} | {r.target} | {r.met} "
            f"| {rss} | {r.note} |"
        )
    path = RESULTS / "results.md"
    path.write_text("\n".join(lines) + "\n")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        plotted = [r for r in rows if r.ratio]
        fig, ax = plt.subplots(figsize=(8, 0.6 * len(plotted) + 1.5))
        ax.barh(
            [r.case for r in plotted],
            [r.ratio for r in plotted],
            color=["#2a9d8f" if r.met == "met" else "#e76f51" for r in plotted],
        )
        for i, r in enumerate(plotted):
            if r.limit:
                ax.plot([r.limit, r.limit], [i - 0.4, i + 0.4], color="black")
        ax.set_xlabel("ratio to baseline (black: target)")
        ax.invert_yaxis()
        fig.tight_layout()
        fig.savefig(RESULTS / "results.png", dpi=110)
    except ImportError:
        pass
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cases", default="default,serve,sweep,sweep-c,cache,help,memory,study")
    args = parser.parse_args(argv)
    wanted = args.cases.split(",")
    if "study" in wanted:
        # Study vs optimiser at equal trainings: its own table (results/study_vs_optuna.md)
        from benchmarks import study

        study.main([])
    rows: list[Row] = []
    work = Path(tempfile.mkdtemp(prefix="mlops-bench-"))
    try:
        for name in wanted:
            if name in CASES:
                print(f"bench: {name} ...", flush=True)
                try:
                    rows.extend(CASES[name](work, args.repeat))
                except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                    # One broken case must not lose the others' measurements.
                    failed = Row(f"{name} (failed)", "", None, note=str(exc).splitlines()[0][:200])
                    failed.ours.append(Sample(float("nan"), 0.0))
                    rows.append(failed)
        if "memory" in wanted:
            rows.extend(case_memory(rows))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    path = write_results(rows, args.repeat)
    print(path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
