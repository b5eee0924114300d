"""The study-vs-optimiser results: benchmarks/results/study_vs_optuna.md and .json."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def write_results(rows: list[dict[str, Any]], summary: dict[str, Any], args: Any) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "study_vs_optuna.json").write_text(
        json.dumps({"rows": rows, "summary": summary}, indent=1, default=str)
    )
    lines = [
        "# Study vs optimiser at equal trainings",
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; "
        f"`python -m benchmarks.study --seeds {args.seeds} --gp-runs {args.gp_runs} "
        f"--gp-stages {args.gp_stages} --confirm-runs {args.confirm_runs}"
        f"{' --merge' if getattr(args, 'merge', False) else ''}` (the last run; each "
        "problem's stage row gives its date and seeds)",
        "- Wall times on a shared 2-core machine (load averages per problem in the table: "
        "other engineers' tests ran beside it), so compare the study with Optuna within a "
        "problem (same run, minutes apart), not across runs. The study's wall leaves out "
        "the local Prefect server's start (once per machine; a user's later studies find it "
        "running) and includes everything else: every stage, its analysis, report, the "
        "best point's model, registration and the confirmation runs.",
        "- Every method scores a setting by 5-fold cross-validation on the training split "
        "(seed 42, 20 % test); the selected setting is then fitted on the training split and "
        "scored on the test split, and on 10 re-splits (seeds 100-109). Optuna: mean over "
        "seeds; the study is deterministic (one run).",
        "",
        "| problem | metric | trainings | method | best CV | test | re-split mean "
        "(sd over seeds) | wall (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        s = row["study"]
        metric = row["metric"]
        lines.append(
            f"| {row['problem']} | {metric} | {row['trainings']} | study (confirmed) | "
            f"{s['cv']:.4f} (predicted) | {s['test']:.4f} | {s['resplit_mean']:.4f} | "
            f"{s['wall_s']:.1f} |"
        )
        for method, m in row["methods"].items():
            lines.append(
                f"| | | | {method} ({m['seeds']} seeds) | {m['cv']:.4f} | {m['test']:.4f} | "
                f"{m['resplit_mean']:.4f} ({m['resplit_sd_over_seeds']:.4f}) | "
                f"{m['wall_s']:.1f} |"
            )
        d = row["details"]
        lines.append(
            f"| | | | study stages | {row.get('date', 'an earlier run')}: walls "
            f"{d['stage_walls']} s (screen, GP..., confirm); "
            f"server start {d.get('server_start_s', float('nan'))} s, not counted | | | "
            f"load {d.get('load', '')} | |"
        )
        lo, hi = d["interval"]
        lines.append(
            f"| | | | confirmation | interval [{lo:.4f}, {hi:.4f}] ({d['source']}) | "
            f"runs {', '.join(f'{v:.4f}' for v in d['confirm_scores'])} | "
            f"{d['inside']} of {len(d['confirm_scores'])} inside | |"
        )
    lines += ["", "## Targets", ""]
    lines += [f"- {k}: {v}" for k, v in summary.items()]
    path = RESULTS / "study_vs_optuna.md"
    path.write_text("\n".join(lines) + "\n")
    return path


__all__ = ["RESULTS", "write_results"]
