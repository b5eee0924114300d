"""Registry integrity under faults, with a proxy in front of a real MLflow server.

The proxy fails requests the way a gateway does: a 503 after the server did the
work (the version or run exists, the client cannot tell), reads failing for
seconds after a create, alias (champion) lookups failing. Whatever happens, one
flow run yields at most one version, the champion is the best version by the
gate metric, the run ends honestly (FINISHED or FAILED) and nothing stays RUNNING.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from registry_fault_support import (
    AfterWorkProxy,
    after_work,
    alias_lookups_fail,
    reads_fail_after,
)

from flows.config.train import load_train_config
from flows.runs.frameworks import train_sklearn

GOOD_C = "1.0"  # about 0.97 accuracy on iris
WORSE_C = "0.0001"  # heavily regularised: clearly worse
# MLflow's HTTP tries for one request under the platform's settings (1 + 3 retries): a
# fault on this many requests in a row outlasts them, and the task's own retry takes over.
MLFLOW_TRIES = 1 + 3


def train(model_name: str, experiment: str, c: str):  # type: ignore[no-untyped-def]
    return train_sklearn(
        load_train_config(
            None,
            [
                "data.source=iris",
                f"model.params.C={c}",
                f"tracking.model_name={model_name}",
                f"tracking.experiment={experiment}",
            ],
        )
    )


@pytest.fixture
def proxy(
    fresh_home: Path, mlflow_server: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[AfterWorkProxy]:
    """Runs of the test track to the real MLflow server through the proxy, with the
    platform's own HTTP retry settings."""
    host, port = mlflow_server.removeprefix("http://").split(":")
    proxy = AfterWorkProxy((host, int(port)))
    proxy.start()
    monkeypatch.setenv("MLOPS_TRACKING_URI", proxy.url)
    for name in (
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR",
        "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER",
        "MLFLOW_HTTP_REQUEST_TIMEOUT",
    ):
        monkeypatch.delenv(name, raising=False)
    yield proxy
    proxy.stop()


def assert_registry_sound(server: MlflowClient, model_name: str, experiment: str) -> None:
    """At most one version per run, the champion the best by accuracy, nothing RUNNING."""
    versions = server.search_model_versions(f"name = '{model_name}'")
    per_run = Counter(v.run_id for v in versions)
    assert all(n == 1 for n in per_run.values()), per_run
    if versions:
        values = {
            str(v.version): server.get_run(v.run_id).data.metrics["accuracy"] for v in versions
        }
        champion = server.get_model_version_by_alias(model_name, "champion")
        assert values[str(champion.version)] == max(values.values()), (champion.version, values)
    found = server.get_experiment_by_name(experiment)
    assert found is not None
    runs = server.search_runs([found.experiment_id])
    assert [r.info.run_id for r in runs if r.info.status == "RUNNING"] == []
    per_flow_run = Counter(r.data.tags.get("prefect.flow_run_id") for r in runs)
    assert all(n == 1 for n in per_flow_run.values()), per_flow_run


@pytest.mark.flow
@pytest.mark.slow
def test_version_create_answered_503_after_the_work_registers_one_version(
    proxy: AfterWorkProxy, mlflow_server: str, model_name: str
) -> None:
    # given: every model-versions/create reaches the server, and the client hears 503
    proxy.rules.append(after_work("POST", "/model-versions/create"))
    # when
    summary = train(model_name, "faults-create-503", GOOD_C)
    # then: the fault hit, and the create was sent once, never retried blindly
    assert [f for f in proxy.injected if "/model-versions/create" in f[1]]
    assert proxy.count("POST", "/model-versions/create") == 1
    # and: one version, from this run, through the gate, champion
    server = MlflowClient(mlflow_server)
    versions = server.search_model_versions(f"name = '{model_name}'")
    assert [(str(v.version), v.run_id) for v in versions] == [("1", summary.run_id)]
    assert versions[0].tags["gate"].startswith("promoted: ")
    assert versions[0].tags["gate.state"] == "done"
    assert summary.version == "1" and summary.champion
    assert server.get_run(summary.run_id).info.status == "FINISHED"
    assert_registry_sound(server, model_name, "faults-create-503")


@pytest.mark.flow
@pytest.mark.slow
def test_run_create_answered_503_after_the_work_leaves_one_run(
    proxy: AfterWorkProxy, mlflow_server: str, model_name: str
) -> None:
    # given: every runs/create reaches the server, and the client hears 503
    proxy.rules.append(after_work("POST", "/runs/create"))
    # when
    summary = train(model_name, "faults-run-create-503", GOOD_C)
    # then: the run was created once, found by its flow-run id, and finished
    assert proxy.count("POST", "/runs/create") == 1
    server = MlflowClient(mlflow_server)
    run = server.get_run(summary.run_id)
    assert run.info.status == "FINISHED"
    found = server.get_experiment_by_name("faults-run-create-503")
    assert found is not None
    runs = server.search_runs([found.experiment_id])
    assert [r.info.run_id for r in runs] == [summary.run_id]
    assert_registry_sound(server, model_name, "faults-run-create-503")


@pytest.mark.flow
@pytest.mark.slow
def test_reads_failing_after_the_create_never_register_twice(
    proxy: AfterWorkProxy,
    mlflow_server: str,
    model_name: str,
    quick_io_retries: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: the create answered 503 after the work, then the reads fail for two task
    # tries' worth of MLflow's HTTP tries, more than those ride out, so the register task
    # itself retries (counted tries; no back-off waited out between them)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    proxy.rules.append(reads_fail_after(("POST", "/model-versions/create"), 2 * MLFLOW_TRIES))
    proxy.rules.append(after_work("POST", "/model-versions/create"))
    # when
    summary = train(model_name, "faults-reads-after-create", GOOD_C)
    # then: reads failed, the create was sent once, and one version exists
    assert len([f for f in proxy.injected if f[0] == "GET"]) == 2 * MLFLOW_TRIES
    assert proxy.count("POST", "/model-versions/create") == 1
    server = MlflowClient(mlflow_server)
    versions = server.search_model_versions(f"name = '{model_name}'")
    assert [(str(v.version), v.run_id) for v in versions] == [("1", summary.run_id)]
    assert summary.champion and versions[0].tags["gate.state"] == "done"
    assert server.get_run(summary.run_id).info.status == "FINISHED"
    assert_registry_sound(server, model_name, "faults-reads-after-create")


@pytest.mark.flow
@pytest.mark.slow
def test_failing_champion_lookup_never_lets_a_worse_model_take_the_alias(
    proxy: AfterWorkProxy,
    mlflow_server: str,
    model_name: str,
    quick_io_retries: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No back-off between MLflow's tries nor the task's: the lookups fail for good, or for
    # more tries than MLflow's own retries make (the task's retries ride that out)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    experiment = "faults-champion-lookup"
    server = MlflowClient(mlflow_server)
    # given: a good champion
    first = train(model_name, experiment, GOOD_C)
    assert first.version == "1" and first.champion
    # when: a worse candidate runs while every alias lookup fails, for good
    proxy.rules.append(alias_lookups_fail(None))
    with pytest.raises(MlflowException):
        train(model_name, experiment, WORSE_C)
    # then: the run failed honestly, its version did not take the alias
    assert [f for f in proxy.injected if "/registered-models/alias" in f[1]]
    found = server.get_experiment_by_name(experiment)
    assert found is not None
    failed = [r for r in server.search_runs([found.experiment_id]) if r.info.status == "FAILED"]
    assert len(failed) == 1
    assert str(server.get_model_version_by_alias(model_name, "champion").version) == "1"
    assert_registry_sound(server, model_name, experiment)
    # when: another worse candidate, with the lookups failing for one task try's worth of
    # MLflow's HTTP tries and one more
    proxy.rules[:] = [alias_lookups_fail(MLFLOW_TRIES + 1)]
    failed_before = len(proxy.injected)
    third = train(model_name, experiment, WORSE_C)
    # then: the lookups did fail; it ran to the end, compared with the real champion, and
    # was kept out
    assert len(proxy.injected) - failed_before == MLFLOW_TRIES + 1
    assert not third.champion
    tags = server.get_model_version(model_name, third.version).tags
    assert tags["gate"].startswith("not promoted: ") and "does not beat champion v1" in tags["gate"]
    assert str(server.get_model_version_by_alias(model_name, "champion").version) == "1"
    assert_registry_sound(server, model_name, experiment)
