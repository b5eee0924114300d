"""A manual alias move in MLflow reaches the scoring server through the registry webhook.

Real servers on loopback: `mlflow server` on SQLite in tmp_path with a webhook
on alias events (HMAC secret), and `python -m flows.serve_model` polling only
every 10 minutes, so only the webhook can make it switch within the test.
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
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from deployments.runtime.servers import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MODEL = "iris-webhook"
SECRET = "webhook-test-secret"
# Loopback over http: MLflow refuses both for webhooks unless told (it guards against SSRF).
WEBHOOK_ENV = {"MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true", "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http"}


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def _wait(url: str, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=5):
            return
        assert process.poll() is None, f"{process.args!r} exited"
        assert time.monotonic() < deadline, f"{url} never answered"
        time.sleep(0.3)


@contextlib.contextmanager
def _started(args: list[str], env: dict[str, str], ready: str) -> Iterator[None]:
    process = subprocess.Popen(
        args,
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait(ready, process)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _register(uri: str, c: float) -> str:
    import mlflow
    from mlflow.models import infer_signature

    data = load_iris(as_frame=True)
    x, y = data.frame.drop(columns="target"), data.target
    model = LogisticRegression(C=c, max_iter=300).fit(x, y)
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("webhook-test")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(x, model.predict(x)),
            input_example=x.head(3),
            pip_requirements=["scikit-learn"],
        )
    return str(mlflow.register_model(info.model_uri, MODEL).version)


def test_a_manual_alias_move_arrives_by_webhook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow
    from mlflow.entities.webhook import WebhookAction, WebhookEntity, WebhookEvent

    # given: an MLflow server and two versions, v1 champion, the scoring server on v1
    for key, value in WEBHOOK_ENV.items():
        monkeypatch.setenv(key, value)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_", "MLFLOW_"))}
    mlflow_port, serve_port = free_port(0), free_port(0)
    uri = f"http://127.0.0.1:{mlflow_port}"
    server_env = {
        **base,
        **WEBHOOK_ENV,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        # Each of the server's workers otherwise draws its own key for webhook secrets, and
        # a worker that did not store the webhook cannot read its secret to sign a delivery.
        "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    mlflow_server = [
        str(BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(mlflow_port),
        "--backend-store-uri", f"sqlite:///{tmp_path / 'mlflow.db'}",
        "--artifacts-destination", str(tmp_path / "artifacts"),
        "--workers", "1",  # as the platform's server runs (MLflow starts 4 by default)
    ]  # fmt: skip
    with _started(mlflow_server, server_env, f"{uri}/health"):
        client = mlflow.MlflowClient(uri)
        scoring = f"http://127.0.0.1:{serve_port}"
        # The webhook exists before the first alias event: MLflow caches each event's
        # webhooks for MLFLOW_WEBHOOK_CACHE_TTL (60 s) and does not drop that cache when
        # a webhook is created, so one created after an alias event may miss the next.
        client.create_webhook(
            name="scoring-server",
            url=f"{scoring}/webhooks/mlflow",
            events=[WebhookEvent(WebhookEntity.MODEL_VERSION_ALIAS, WebhookAction.CREATED)],
            secret=SECRET,
        )
        v1, v2 = _register(uri, 1.0), _register(uri, 0.1)
        client.set_registered_model_alias(MODEL, "champion", v1)
        serve_env = {
            **base,
            "MLOPS_HOME": str(tmp_path / "home"),
            "MLFLOW_TRACKING_URI": uri,
            "PYTHONPATH": str(REPO),
            "MLOPS_SERVING_WEBHOOK_SECRET": SECRET,
        }
        serve = [sys.executable, "-m", "flows.serve_model", "--model", MODEL]
        serve += ["--port", str(serve_port), "--poll-seconds", "600", "--log-rate", "0"]
        with _started(serve, serve_env, f"{scoring}/ping"):
            assert _get(f"{scoring}/version")["version"] == v1
            # when: a person moves the alias (as in the MLflow UI)
            client.set_registered_model_alias(MODEL, "champion", v2)
            # then: the server follows within seconds, long before its next poll
            deadline = time.monotonic() + 60
            while _get(f"{scoring}/version")["version"] != v2:
                assert time.monotonic() < deadline, "the webhook never switched the server"
                time.sleep(0.5)
            assert _get(f"{scoring}/version")["served"] == [v1, v2]
