"""Tracking-server faults, injected by a proxy in front of a real MLflow server.

S3 faults (transient errors, a missing bucket, bad credentials) are covered in
tests/flows/test_s3_storage.py; a sweep re-run reusing its completed points in
tests/flows/test_sweep.py. Here: the MLflow server failing for a few seconds,
failing for good, and a flow run retried after its run-termination request failed.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from reliability_support import MlflowFaultProxy, fail_run_termination, outage

from flows.config.train import TrainConfig, load_train_config
from flows.runs.frameworks import train_sklearn
from tasks._common import IO_RETRIES


def quick_config(model_name: str, experiment: str) -> TrainConfig:
    return load_train_config(
        None,
        [
            "data.source=iris",
            "model.params.C=1.0",
            f"tracking.model_name={model_name}",
            f"tracking.experiment={experiment}",
        ],
    )


@pytest.fixture
def via_proxy(
    fresh_home: Path, mlflow_proxy: MlflowFaultProxy, monkeypatch: pytest.MonkeyPatch
) -> MlflowFaultProxy:
    """Runs of this test track to the MLflow server through the fault proxy.

    MLflow's HTTP retry settings are cleared, so the platform's defaults apply.
    """
    monkeypatch.setenv("MLOPS_TRACKING_URI", mlflow_proxy.url)
    for name in (
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR",
        "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER",
        "MLFLOW_HTTP_REQUEST_TIMEOUT",
    ):
        monkeypatch.delenv(name, raising=False)
    return mlflow_proxy


@pytest.mark.flow
@pytest.mark.slow
def test_tracking_server_down_for_seconds_then_the_run_succeeds(
    via_proxy: MlflowFaultProxy, mlflow_server: str, model_name: str
) -> None:
    # given: the tracking server answers 503 to everything for 3 s, from the run's creation
    via_proxy.rules.append(outage(3.0, starting_at="/runs/create"))
    # when
    summary = train_sklearn(quick_config(model_name, "faults-transient"))
    # then: the outage happened and was ridden out by retries
    assert len(via_proxy.injected) >= 2
    assert all(status == 503 for _, _, status in via_proxy.injected)
    # and: the run is complete on the server, exactly once, with one registered version
    server = MlflowClient(mlflow_server)
    assert server.get_run(summary.run_id).info.status == "FINISHED"
    experiment = server.get_experiment_by_name("faults-transient")
    assert experiment is not None
    runs = server.search_runs(
        [experiment.experiment_id], filter_string=f"tags.model_name = '{model_name}'"
    )
    assert [r.info.run_id for r in runs] == [summary.run_id]
    versions = server.search_model_versions(f"name = '{model_name}'")
    assert [str(v.version) for v in versions] == ["1"] and summary.champion
    print(f"\ntransient outage: {len(via_proxy.injected)} requests answered 503 over 3 s")


@pytest.mark.flow
@pytest.mark.slow
def test_tracking_server_down_for_good_fails_clearly_after_bounded_retries(
    via_proxy: MlflowFaultProxy,
    model_name: str,
    quick_io_retries: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: the tracking server answers 503 to every request, for good; the
    # platform's retry counts, with no back-off between MLflow's tries and short pauses
    # between the task's (what is counted is the number of tries, not how long they wait)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    via_proxy.rules.append(outage(None))
    started = time.monotonic()
    # when
    with pytest.raises(MlflowException) as caught:
        train_sklearn(quick_config(model_name, "faults-permanent"))
    took = time.monotonic() - started
    # then: the error names the tracking server's URL and what it answered
    message = str(caught.value)
    assert f"API request to {via_proxy.url}/api/" in message
    assert "503" in message
    # and: retries were bounded: (1 + MLflow's 3 HTTP retries) for each of the task's tries
    attempts = len(via_proxy.injected)
    assert attempts == (1 + 3) * (1 + IO_RETRIES)
    assert via_proxy.passed == 0
    print(f"\npermanent outage: failed after {took:.1f} s and {attempts} requests")


@pytest.mark.flow
@pytest.mark.slow
def test_retried_flow_run_does_not_register_a_second_version(
    via_proxy: MlflowFaultProxy,
    mlflow_server: str,
    model_name: str,
    quick_io_retries: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: no HTTP-level retries, and the run-termination request (status FINISHED)
    # failing on every try of the finish task in the first flow-run attempt (tries with
    # short pauses: what the retried flow run registers is under test, not the pauses)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    via_proxy.rules.append(fail_run_termination(1 + IO_RETRIES, status="FINISHED"))
    flow = train_sklearn.with_options(retries=1, retry_delay_seconds=0)
    # when: the first attempt fails after registering; the flow run retries
    summary = flow(quick_config(model_name, "faults-idempotency"))
    # then: the faults were injected, then the retry went through
    assert len(via_proxy.injected) == 1 + IO_RETRIES
    server = MlflowClient(mlflow_server)
    run = server.get_run(summary.run_id)
    assert run.info.status == "FINISHED"
    # and: one MLflow run for the flow run and one model version, from that run
    experiment = server.get_experiment_by_name("faults-idempotency")
    assert experiment is not None
    runs = server.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.`prefect.flow_run_id` = '{run.data.tags['prefect.flow_run_id']}'",
    )
    assert [r.info.run_id for r in runs] == [summary.run_id]
    versions = server.search_model_versions(f"name = '{model_name}'")
    assert [(str(v.version), v.run_id) for v in versions] == [("1", summary.run_id)]
    assert summary.version == "1"
    alias = server.get_model_version_by_alias(model_name, "champion")
    assert str(alias.version) == "1"
