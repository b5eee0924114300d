"""The gate's `mlops.champion.moved` reaches the scoring server through a Prefect automation:
`deployments.serving_alerts`' reload trigger POSTs to the server's /reload.

Real pieces: the session's local Prefect server (its automations and webhook action),
the scoring server as a subprocess polling only every 10 minutes (so only the trigger
can switch it within the test), MLflow on the session's SQLite store.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from deployments.runtime.servers import free_port
from deployments.serving_alerts import create_reload_trigger
from libs.settings import PlatformSettings
from tasks import tracking
from tasks.register import announce_champion

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def _version(url: str) -> str:
    with urllib.request.urlopen(f"{url}/version", timeout=10) as response:
        return str(json.loads(response.read())["version"])


def _register(uri: str, model: str, c: float) -> str:
    import mlflow
    from mlflow.models import infer_signature

    data = load_iris(as_frame=True)
    x, y = data.frame.drop(columns="target"), data.target
    estimator = LogisticRegression(C=c, max_iter=300).fit(x, y)
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("reload-trigger-test")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            estimator,
            name="model",
            signature=infer_signature(x, estimator.predict(x)),
            input_example=x.head(3),
            pip_requirements=["scikit-learn"],
        )
    return str(mlflow.register_model(info.model_uri, model).version)


def test_the_gates_event_switches_the_server_through_an_automation(
    flow_home: Path, model_name: str, local_prefect_api: str
) -> None:
    # given: v1 champion, v2 registered, the scoring server on v1 polling every 10 minutes
    uri = PlatformSettings().resolved_tracking_uri
    v1, v2 = _register(uri, model_name, 1.0), _register(uri, model_name, 0.1)
    handle = tracking.RunHandle("", "", uri, "")
    tracking.set_champion(handle, model_name, v1)
    port = free_port(0)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_", "MLFLOW_"))}
    env.update(MLOPS_HOME=str(flow_home), PYTHONPATH=str(REPO))
    serve = [sys.executable, "-m", "flows.serve_model", "--model", model_name]
    serve += ["--port", str(port), "--poll-seconds", "600", "--log-rate", "0"]
    process = subprocess.Popen(
        serve, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            with contextlib.suppress(OSError):
                if _version(url) == v1:
                    break
            assert process.poll() is None, f"server exited: {process.stderr.read()}"  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.3)
        create_reload_trigger(model_name, url)
        time.sleep(2)  # the triggers service loads new automations every few seconds
        # when: the gate moves the alias and announces it, as tasks.register does
        tracking.set_champion(handle, model_name, v2)
        announce_champion(model_name, v2, v1)
        # then: the server switches within seconds, long before its next poll
        deadline = time.monotonic() + 45
        while _version(url) != v2:
            assert time.monotonic() < deadline, "the automation never reached /reload"
            time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
