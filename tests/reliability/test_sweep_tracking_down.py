"""A tracking server killed during a sweep (issue 36): the sweep stops launching points once
the server is found dead, records the rest as not run, and ends with one line naming the
tracking URI, exit code 1.

Before: every point waited out MLflow's client retries (and the task's own), one after
another, and the one line came after 274-370 s.
"""

from __future__ import annotations

import datetime as dt
import importlib
import time
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterStartTime,
)
from reliability_support import MlflowFaultProxy, kill_at

from flows.runs.sweep_batches import on_point_done
from libs.doe.sweep import PointResult

# Six points, two at a time: the server dies while the first two train.
SWEEP = """
train:
  data: {{source: iris, max_rows: 90}}
  model: {{name: logistic_regression}}
  tracking: {{experiment: {experiment}, model_name: {model}}}
factors:
  - {{name: model.params.C, type: continuous, low: 0.1, high: 10, scale: log}}
  - {{name: model.params.max_iter, type: integer, low: 50, high: 300}}
design: {{kind: latin_hypercube, samples: 6}}
objective: {{metric: accuracy}}
concurrency: 2
register_best: false
"""


@pytest.mark.flow
@pytest.mark.slow
def test_a_tracking_server_killed_mid_sweep_ends_it_in_one_line(
    fresh_home: Path,
    prefect_server: None,
    mlflow_proxy: MlflowFaultProxy,
    model_name: str,
    tmp_path: Path,
    quick_io_retries: list[float],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given: a sweep tracking through the proxy, which dies as the first point's run starts;
    # the platform's retry counts, without their pauses (MLflow's back-off, the tasks'):
    # what is under test is that the sweep stops launching points and how it ends, not how
    # long each request to a dead server waits
    monkeypatch.setenv("MLOPS_TRACKING_URI", mlflow_proxy.url)
    monkeypatch.setenv("MLOPS_WARM_WORKER", "false")
    # The session's Prefect server, which this process's Prefect settings name: in auto
    # mode the command would also start a local server in the home (it looks for
    # PREFECT_API_URL in the environment only), at the cost of a server start, unused.
    monkeypatch.setenv("MLOPS_PREFECT_SERVER", "temporary")
    for name in ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0")
    experiment = f"killed-{model_name}"[:60]
    path = tmp_path / "sweep.yaml"
    path.write_text(SWEEP.format(experiment=experiment, model=model_name))
    mlflow_proxy.rules.append(kill_at(mlflow_proxy, "/runs/create", 2))
    began = dt.datetime.now(dt.UTC)
    # when
    seen: list[PointResult] = []
    with on_point_done(seen.append):
        code = importlib.import_module("flows.sweep").main(["--config", str(path), "--no-progress"])
    ended = time.monotonic()
    # then: one error line naming the tracking server and the points not run, exit code 1
    out = capsys.readouterr()
    assert mlflow_proxy.killed_at is not None
    print(f"\nsweep ended {ended - mlflow_proxy.killed_at:.1f} s after the tracking server died")
    print(out.err.strip().splitlines()[-1])
    errors = [line for line in out.err.splitlines() if line.startswith("error:")]
    assert code == 1, out.err[-3000:]
    assert len(errors) == 1, out.err[-3000:]
    assert f"the MLflow tracking server at {mlflow_proxy.url} stopped answering" in errors[0]
    assert "Traceback" not in out.err
    # and: the points in flight when it died failed; none started after it was found dead
    failed = [r for r in seen if r.status == "failed"]
    not_run = [r for r in seen if r.status == "skipped"]
    assert 1 <= len(failed) <= 2 and len(failed) + len(not_run) == 6, seen
    assert all(r.error.startswith("not run: the MLflow tracking server at") for r in not_run)
    assert f": {len(not_run)} of 6 points not run;" in errors[0]
    assert len(train_flow_runs(began)) == len(failed)


def train_flow_runs(since: dt.datetime) -> list[object]:
    """The training flow runs (points) started on the session's Prefect server since `since`."""
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["train-sklearn"])),
            flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=since)),
        )
