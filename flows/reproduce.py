"""`python -m flows.train --reproduce MODEL/version`: the recorded run to train again, checked
against its data, and the reproduction printed beside the original, metric by metric."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from flows.lineage import lineage_of
from libs.errors import InputError


@dataclass(frozen=True)
class Reproduction:
    """What `python -m flows.train --reproduce` re-runs and what it compares against."""

    reference: str
    config: Any  # the recorded TrainConfig, as validated then
    original: dict[str, Any]  # the version's lineage record
    data_note: str


def plan_reproduction(reference: str, settings: Any, *, allow_data_change: bool) -> Reproduction:
    """The recorded config of `reference`, checked against the data at the recorded URI.

    The source file's sha256 must still be the recorded one: otherwise one
    InputError line names both digests, unless `allow_data_change`. A local
    source given by a relative path is read at the recorded absolute path.
    """
    from flows.config.train import TrainConfig, check_train_config
    from libs import io as storage_io
    from libs.config import validate

    original = lineage_of(reference, settings, None, need_run="--reproduce")
    label = f"{original['model']['name']}/{original['model']['version']}"
    if not original["config"]["recorded"]:
        raise InputError(
            f"--reproduce {label}: its run kept no config artifact (trained before configs "
            "were recorded); nothing to re-run"
        )
    data = dict(original["config"]["values"])
    recorded_uri = original["data"]["source_uri"] or ""
    recorded_sha = original["data"]["source_sha256"] or ""
    note = "bundled dataset: no file to check"
    if recorded_uri and not recorded_uri.startswith("bundled:"):
        found = storage_io.digest(recorded_uri)
        if found != recorded_sha:
            if not allow_data_change:
                raise InputError(
                    f"--reproduce {label}: data changed: {recorded_uri} has sha256 {found}, "
                    f"the model was trained on sha256 {recorded_sha or '(not recorded)'}; "
                    "pass --allow-data-change to train on the data as it is now"
                )
            note = f"data changed (allowed): sha256 {recorded_sha} -> {found}"
        else:
            note = f"data unchanged: sha256 {found}"
        source = data["data"]["source"]
        if "://" not in source and os.path.realpath(source) != os.path.realpath(recorded_uri):
            data["data"] = {**data["data"], "source": recorded_uri}
    config = validate(TrainConfig, data, f"--reproduce {label}: recorded config")
    check_train_config(config, f"--reproduce {label}: recorded config")
    return Reproduction(reference=label, config=config, original=original, data_note=note)


def reproduction_rows(plan: Reproduction, metrics: dict[str, float], config_digest: str) -> str:
    """The reproduction next to the original: config digest, data, then metric by metric."""
    from libs.lineage import metric_diff_rows, table

    rows = metric_diff_rows(plan.original["metrics"], metrics)
    measured = [r for r in rows if r[3].startswith("measured")]
    compared = [r for r in rows if not r[3].startswith("measured")]
    same = sum(1 for r in compared if r[3] == "identical")
    recorded_digest = plan.original["config"]["digest"]
    digest_line = (
        "same"
        if recorded_digest == config_digest
        else (f"differs ({recorded_digest} -> {config_digest})")
    )
    verdict = (
        f"all {len(compared)} metrics identical"
        if same == len(compared)
        else f"{len(compared) - same} of {len(compared)} metrics differ"
    )
    lines = [
        "",
        f"Reproduction of {plan.reference}: {verdict}",
        f"  Config digest:    {digest_line}",
        *(
            [
                f"  Measured again:   {', '.join(r[0] for r in measured)}"
                " (time and size, not compared)"
            ]
            if measured
            else []
        ),
        f"  Data:             {plan.data_note}",
        "",
        table([("metric", "original", "reproduced", "difference"), *rows]),
    ]
    return "\n".join(lines)


__all__ = ["Reproduction", "plan_reproduction", "reproduction_rows"]
