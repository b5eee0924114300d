"""A study stage's recommendation: the best supported setting, as values and as lines.

Pure functions (no tracking): the sweep flow and `--confirm` ask for the
stage's recommendation here; the summary prints `recommendation_lines`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from libs.doe.recommend import Recommendation, recommend
from libs.doe.runs import Design
from libs.doe.space import CategoricalFactor, FactorSpace
from libs.doe.sweep import PointResult
from libs.errors import InputError
from libs.studies import BestSetting, best_setting, fmt_value


def best_run_recommendation(best: BestSetting, maximize: bool, why: str) -> Recommendation:
    """A recommendation of the best run itself (a path stage: no model to predict with).

    Its interval is undefined from one run (NaN): the confirmation then reports
    the scores without an inside/outside verdict.
    """
    return Recommendation(
        settings=dict(best.run.point),
        predicted=best.mean,
        interval=(math.nan, math.nan),
        source="best run",
        reason=why,
        maximize=maximize,
        runs=best.runs,
    )


def stage_recommendation(
    design: Design, space: FactorSpace, responses: Mapping[int, float], maximize: bool
) -> tuple[Recommendation | None, str]:
    """The stage's recommendation from its completed runs (every stage of the study the
    design nests), or None and the one line saying why there is none.

    A surface design's factors are the surface (`design.active`); the other
    factors are held where the runs put them best, and the recommendation says so.
    """
    used = sorted(i for i, v in responses.items() if v is not None and math.isfinite(v))
    if design.kind == "path" and used:
        runs = [
            PointResult(i, design.points[i], "completed", objective=float(responses[i]))
            for i in used
        ]
        best = best_setting(runs, maximize)
        assert best is not None
        why = (
            f"the best run along the path of steepest {'ascent' if maximize else 'descent'} "
            f"(step {best.run.index}); a path has no model to predict with"
        )
        return best_run_recommendation(best, maximize, why), ""
    if len(used) < 2:
        return None, "recommendation: fewer than two completed runs"
    coded = design.coded.iloc[used].reset_index(drop=True)
    y = [float(responses[i]) for i in used]
    block = [design.block[i] for i in used] if design.block else None
    if block is not None and (len(set(block)) < 2 or design.kind == "gp"):
        # a GP batch is no block of a design: its runs share the study's split and folds, and
        # a batch term would absorb the very difference the batch was proposed to find
        block = None
    numeric = [
        n
        for n in design.active
        if n in coded.columns
        and coded[n].nunique() > 1
        and not isinstance(space.factor(n), CategoricalFactor)
    ]
    try:
        return recommend(
            coded,
            y,
            space,
            maximize=maximize,
            factors=numeric or None,
            block=block,
            # a GP stage's runs crowd where the optimiser looked: its pick is at least the
            # best observed setting unless a well-fitting model predicts a better one
            at_least_best_run=design.kind == "gp",
        ), ""
    except InputError as exc:
        return None, f"recommendation: {exc}"


def recommendation_dict(recommendation: Recommendation) -> dict[str, Any]:
    """The recommendation as JSON-ready values (the stage logs it beside its results)."""
    return {
        "settings": recommendation.settings,
        "predicted": recommendation.predicted,
        "interval": list(recommendation.interval),
        "source": recommendation.source,
        "reason": recommendation.reason,
        "held": recommendation.held,
        "level": recommendation.level,
    }


def recommendation_lines(recommendation: Any, metric: str) -> list[tuple[str, str]]:
    """`(label, text)` lines of a recommendation: every factor, held ones said, the interval."""
    if recommendation is None:
        return []
    settings = dict(recommendation.settings)
    held = _held(recommendation)
    at = ", ".join(f"{k}={fmt_value(v)}" for k, v in settings.items())
    low, high = recommendation.interval
    interval = (
        f"95% prediction interval [{low:.4g}, {high:.4g}]"
        if math.isfinite(low) and math.isfinite(high)
        else "no prediction interval (a single run has no spread)"
    )
    lines = [
        ("Recommendation", at),
        (
            "Predicted",
            f"{metric}={recommendation.predicted:.4g}, {interval} ({recommendation.source})",
        ),
    ]
    if held:
        lines.append(("Held", "; ".join(f"{k}: {why}" for k, why in held.items())))
    if getattr(recommendation, "reason", ""):
        lines.append(("Why", str(recommendation.reason)))
    return lines


def _held(recommendation: Any) -> dict[str, str]:
    """Factor -> why it was held, from a recommendation's `held` (names, or name -> reason)."""
    held = getattr(recommendation, "held", None) or {}
    if isinstance(held, Mapping):
        return {str(k): str(v) for k, v in held.items()}
    return {str(k): "held at the level the study found best" for k in held}


__all__ = [
    "best_run_recommendation",
    "recommendation_dict",
    "recommendation_lines",
    "stage_recommendation",
]
