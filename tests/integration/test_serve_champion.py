"""`python -m flows.serve_model`: the champion served over HTTP, following `@champion`.

Real pieces only: MLflow on SQLite in tmp_path with tiny scikit-learn versions
registered directly, the scoring server as a subprocess on a free loopback
port, and a client thread hammering /invocations while the alias moves.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from deployments.runtime.servers import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
MODEL = "iris-served"
SERVE = [sys.executable, "-m", "flows.serve_model"]
FAST = ["--poll-seconds", "0.5", "--log-rate", "1"]  # follow quickly, log every request


def _frame() -> pd.DataFrame:
    return load_iris(as_frame=True).frame.drop(columns="target")


def _register(home: Path, estimator: Any, *, fit: bool = True) -> str:
    """Log `estimator` with its signature and input example and register it; the version."""
    import mlflow
    from mlflow.models import infer_signature

    data = load_iris(as_frame=True)
    x, y = data.frame.drop(columns="target"), data.target
    signature = infer_signature(x, LogisticRegression(max_iter=200).fit(x, y).predict(x))
    if fit:
        estimator.fit(x, y)
    mlflow.set_tracking_uri(f"sqlite:///{home / 'mlflow.db'}")
    mlflow.set_experiment("serving-test")
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(
            estimator,
            name="model",
            signature=signature,
            input_example=x.head(3),
            pip_requirements=["scikit-learn"],
        )
    client = mlflow.MlflowClient()
    with contextlib.suppress(Exception):
        client.create_registered_model(MODEL)
    return str(client.create_model_version(MODEL, info.model_uri, run_id=run.info.run_id).version)


def _move_champion(home: Path, version: str) -> None:
    """The gate's own alias move (`tracking.set_champion`), so the history is recorded."""
    from tasks import tracking

    handle = tracking.RunHandle("", "", f"sqlite:///{home / 'mlflow.db'}", "")
    tracking.set_champion(handle, MODEL, version)


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_", "MLFLOW_"))}
    env.update(MLOPS_HOME=str(home), PYTHONPATH=str(REPO))
    return env


def _call(url: str, body: Any = None, *, raw: bytes | None = None) -> tuple[int, Any, Any]:
    """Status, headers (case-insensitive) and JSON body of one request."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, json.loads(exc.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """One server for the module (its start is the slow part); the tests run in file order:
    bad requests on v1, a broken v2 refused, then v3 switched to and rolled back past v2."""
    home = tmp_path_factory.mktemp("serving") / "home"
    v1 = _register(home, LogisticRegression(max_iter=200))
    _move_champion(home, v1)
    port = free_port(0)
    process = subprocess.Popen(
        [*SERVE, "--model", MODEL, "--host", "127.0.0.1", "--port", str(port), *FAST],
        cwd=REPO,
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            with contextlib.suppress(OSError):
                if _call(f"{url}/ping")[0] == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"server did not start: {process.stdout.read()}")  # type: ignore[union-attr]
            time.sleep(0.3)
        yield url, home
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_for_version(url: str, version: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while _call(f"{url}/version")[2]["version"] != version:
        assert time.monotonic() < deadline, f"server never switched to v{version}"
        time.sleep(0.2)


def test_a_broken_model_never_takes_over_and_is_tagged(server: tuple[str, Path]) -> None:
    # given: a version whose estimator was never fitted
    url, home = server
    broken = _register(home, LogisticRegression(), fit=False)
    # when: it becomes champion and the server is told at once
    _move_champion(home, broken)
    status, _, state = _call(f"{url}/reload", {})
    # then: v1 stays served, and the refusal is recorded on the broken version
    assert status == 200
    assert broken == "2"
    assert state["version"] == "1" and broken in state["rejected"]
    assert "NotFittedError" in state["rejected"][broken]
    assert (
        _call(f"{url}/invocations", {"dataframe_records": _frame().head(2).to_dict("records")})[1][
            "X-Model-Version"
        ]
        == "1"
    )
    import mlflow

    tags = (
        mlflow.MlflowClient(f"sqlite:///{home / 'mlflow.db'}").get_model_version(MODEL, broken).tags
    )
    assert "NotFittedError" in tags["serving.rejected"]


def test_bad_requests_get_400_naming_the_column_and_requests_are_logged(
    server: tuple[str, Path],
) -> None:
    url, home = server
    records = _frame().head(3).to_dict("records")
    # when: a column is missing, a column has text, the body is not JSON
    missing = _call(
        f"{url}/invocations",
        {
            "dataframe_records": [
                {k: v for k, v in r.items() if k != "petal width (cm)"} for r in records
            ]
        },
    )
    mistyped = _call(
        f"{url}/invocations",
        {"dataframe_records": [{**r, "sepal length (cm)": "long"} for r in records]},
    )
    garbage = _call(f"{url}/invocations", raw=b"{not json")
    instances = _call(f"{url}/invocations", {"instances": _frame().head(4).to_numpy().tolist()})
    # then
    assert missing[0] == 400 and "petal width (cm)" in missing[2]["message"]
    assert mistyped[0] == 400 and "sepal length (cm)" in mistyped[2]["message"]
    assert garbage[0] == 400 and "not JSON" in garbage[2]["message"]
    assert missing[1]["X-Model-Version"] == "1"
    assert instances[0] == 200 and len(instances[2]["predictions"]) == 4
    # and the scored requests reach storage as Parquet (batched: on shutdown at the latest)
    _call(f"{url}/invocations", {"dataframe_records": records})
    folder = home / "data" / "requests" / MODEL
    deadline = time.monotonic() + 15
    while not list(folder.rglob("*.parquet")):
        assert time.monotonic() < deadline, "no request log written"
        time.sleep(0.5)
    logged = pd.concat(pd.read_parquet(p) for p in folder.rglob("*.parquet"))
    assert {"prediction", "model_version", "received_at", "sepal length (cm)"} <= set(logged)
    assert set(logged["model_version"]) == {"1"}


def test_switches_on_alias_moves_without_a_failed_request_and_follows_a_rollback(
    server: tuple[str, Path],
) -> None:
    # given: a client hammering /invocations
    url, home = server
    rows = {"dataframe_split": _frame().head(5).to_dict(orient="split")}
    rows["dataframe_split"].pop("index")
    seen: list[tuple[int, str | None]] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            status, headers, body = _call(f"{url}/invocations", rows)
            answered = len(body.get("predictions", [])) == 5
            seen.append((status if answered else -status, headers.get("X-Model-Version")))

    client = threading.Thread(target=hammer)
    client.start()
    try:
        # when: the champion moves to v3, then a rollback brings back v1 (v2 was refused)
        v3 = _register(home, LogisticRegression(C=0.01, max_iter=200))
        _move_champion(home, v3)
        _wait_for_version(url, v3)
        rolled = subprocess.run(
            [*SERVE, "rollback", "--model", MODEL, "--reason", "v3 misbehaves", "--by", "tester"],
            cwd=REPO,
            env=_env(home),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert rolled.returncode == 0, rolled.stderr
        _wait_for_version(url, "1")
        time.sleep(0.5)
    finally:
        stop.set()
        client.join(30)
    # then: no request failed, every one named its version, both versions answered
    assert "from v3 to v1" in rolled.stdout
    assert seen and all(status == 200 for status, _ in seen), {s for s, _ in seen}
    versions = [v for _, v in seen]
    assert set(versions) == {"1", "3"}
    first_new = versions.index("3")
    assert "1" not in versions[first_new : versions.index("1", first_new)]
    assert _call(f"{url}/version")[2]["served"] == ["1", "3", "1"]
    # and the rollback is recorded the way the gate records a move
    import mlflow

    mv1 = mlflow.MlflowClient(f"sqlite:///{home / 'mlflow.db'}").get_model_version(MODEL, "1")
    assert mv1.tags["champion.rollback_by"] == "tester"
    assert mv1.tags["champion.rollback_reason"] == "v3 misbehaves"
    assert mv1.tags["champion.previous"] == "3"
