"""The request-drift watch: logged requests of a served model against its training data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient
from prefect_support import events_for

from flows.config.train import load_train_config
from flows.runs.frameworks import train_sklearn
from flows.runs.watch_requests import watch_requests
from libs.datasets import load_bundled
from libs.serving import RequestLog, request_log_uri
from libs.settings import PlatformSettings
from tasks.watch import DRIFT_FLAGGED

pytestmark = pytest.mark.slow


def test_shifted_traffic_is_flagged_logged_to_mlflow_and_announced(
    flow_home: Path, model_name: str, local_prefect_api: str
) -> None:
    # given: a champion, and no request logged yet
    train_sklearn(load_train_config(None, [f"tracking.model_name={model_name}"]))
    settings = PlatformSettings()
    quiet = watch_requests(model_name, settings=settings)
    assert (quiet.rows, quiet.drift) == (0, None)  # a quiet window completes, measuring nothing
    assert quiet.output_uri == request_log_uri(settings.storage_root, model_name)
    assert (
        MlflowClient(settings.resolved_tracking_uri).get_experiment_by_name("request-drift") is None
    )
    # when: served traffic arrives with two features shifted far from training
    rows = load_bundled("breast_cancer").drop(columns=["target"]).head(300)
    shifted = rows.assign(**{rows.columns[0]: rows.iloc[:, 0] * 3, rows.columns[1]: 0.0})
    log = RequestLog(request_log_uri(settings.storage_root, model_name), rate=1.0).start()
    log.offer(shifted, np.zeros(len(shifted)), "1")
    log.close()
    result = watch_requests(model_name, settings=settings)
    # then: those two features are flagged, and the run says so
    assert result.rows == 300 and result.drift is not None
    assert {str(rows.columns[0]), str(rows.columns[1])} <= set(result.drift.flagged)
    client = MlflowClient(settings.resolved_tracking_uri)
    experiment = client.get_experiment_by_name("request-drift")
    assert experiment is not None
    run = client.search_runs([experiment.experiment_id], f"tags.`model.name` = '{model_name}'")[0]
    assert run.data.metrics["drift.features_flagged"] >= 2
    assert str(rows.columns[0]) in run.data.tags["drift.flagged"]
    # and the flag reaches the Prefect server as an event an automation can act on
    mine = events_for(local_prefect_api, DRIFT_FLAGGED, model_name)
    assert str(rows.columns[0]) in mine[0]["payload"]["flagged"]
