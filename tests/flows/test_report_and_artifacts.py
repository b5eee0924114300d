"""The training run's report (an evaluation card, small, offline) and its Prefect artifacts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mlflow import MlflowClient
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

from flows.config.train import load_train_config
from flows.runs.frameworks import train_sklearn
from libs.settings import PlatformSettings

MAX_REPORT_BYTES = 1_500_000


def client() -> MlflowClient:
    return MlflowClient(PlatformSettings().resolved_tracking_uri)


def flow_run_artifacts(flow_run_id: str) -> list[Any]:
    with get_client(sync_client=True) as prefect:
        return prefect.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )


def report_of(run_id: str) -> str:
    return Path(client().download_artifacts(run_id, "report/report.html")).read_text()


def test_default_run_report_is_a_small_evaluation_card(flow_home: Path, model_name: str) -> None:
    # given: the default config (what `make train` runs), under a test model name
    config = load_train_config("configs/default.yaml", [f"tracking.model_name={model_name}"])
    # when
    summary = train_sklearn(config)
    html = report_of(summary.run_id)
    # then: under the size budget, one bundle, nothing fetched from outside
    assert len(html.encode()) < MAX_REPORT_BYTES
    assert html.count('id="plotly-bundle"') == 1 and "https://" not in html
    # and: the card's sections, in reading order, before the figures
    heads = re.findall(r"<h2>(.*?)</h2>", html)
    assert heads[:6] == [
        "Gate: candidate against the champion",
        "Run",
        "Metrics",
        "Data",
        "Class balance",
        "Config",
    ]
    assert {"Confusion matrix", "ROC curve", "Permutation importance"} <= set(heads)
    assert f"{model_name} version 1: now the champion" in html
    for fact in ("registered version", "duration", "commit", "data digest", "sha256:"):
        assert fact in html
    assert "<td>malignant</td>" in html and "<td>benign</td>" in html  # class names
    assert "95% bootstrap interval" in html
    # and: the intervals are MLflow metrics too, around the value
    metrics = client().get_run(summary.run_id).data.metrics
    assert metrics["accuracy_ci_low"] <= metrics["accuracy"] <= metrics["accuracy_ci_high"]
    assert metrics["accuracy_ci_high"] - metrics["accuracy_ci_low"] > 0


def test_a_second_worse_run_reports_the_champion_it_did_not_beat(
    flow_home: Path, model_name: str
) -> None:
    # given: a champion
    train_sklearn(load_train_config(None, [f"tracking.model_name={model_name}"]))
    # when: a much worse model under the same name
    worse = train_sklearn(
        load_train_config(None, [f"tracking.model_name={model_name}", "model.params.C=0.00001"])
    )
    html = report_of(worse.run_id)
    # then
    assert '<span class="badge no">not champion</span>' in html
    assert "kept, not the champion" in html
    assert re.search(r"<td>v1: 0\.\d+</td>\s*<td>fail</td>", html)


def test_summary_and_link_artifacts_hang_on_the_flow_run(flow_home: Path, model_name: str) -> None:
    # given / when
    summary = train_sklearn(load_train_config(None, [f"tracking.model_name={model_name}"]))
    flow_run_id = client().get_run(summary.run_id).data.tags["prefect.flow_run_id"]
    # then: both on the flow run itself, not on a task run
    artifacts = {a.key: a for a in flow_run_artifacts(flow_run_id)}
    summary_artifact = artifacts[f"{model_name}-summary"]
    link = artifacts[f"{model_name}-mlflow-run"]
    for artifact in (summary_artifact, link):
        assert artifact.task_run_id is None
        assert str(artifact.flow_run_id) == flow_run_id
    assert link.type == "link" and summary.run_url in link.data
    assert link.description and model_name in link.description
    assert summary_artifact.type == "markdown" and "Champion" in summary_artifact.data
