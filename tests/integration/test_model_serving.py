"""`mlflow models serve -m models:/NAME@champion --env-manager local`, as the how-to shows it.

A model trained with `python -m flows.train` in tmp_path is served from the
project's venv on a free loopback port; a POST to /invocations scores rows.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import run_cli

from deployments.runtime.servers import free_port

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MODEL = "breast-cancer-logistic-regression"
# As docs/content/how-to/serve-a-model.md shows it (the docs checker finds this text here).
# The venv is activated first (its bin first on PATH: the scoring server is
# started as `uvicorn`); `_env` does the same.
DOC_ACTIVATE = "source .venv/bin/activate"
DOC_SERVE = 'MLFLOW_TRACKING_URI=sqlite:///.mlops/mlflow.db mlflow models serve -m "models:/breast-cancer-logistic-regression@champion" --env-manager local --host 127.0.0.1 --port 5001'  # noqa: E501


def _env(home: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_", "PREFECT_", "MLFLOW_"))
    }
    env.update(
        MLOPS_HOME=str(home),
        MLOPS_WARM_WORKER="false",
        PYTHONPATH=str(REPO),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        MLFLOW_TRACKING_URI=f"sqlite:///{home / 'mlflow.db'}",
        PATH=f"{BIN}:{os.environ['PATH']}",  # what DOC_ACTIVATE does
    )
    return env


@pytest.fixture(scope="module")
def served_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    home = tmp_path_factory.mktemp("serving") / "home"
    env = _env(home)
    # The run talks to this test process's Prefect server (a local server's start is
    # tests/cli's subject, not this module's); its model goes to the test's own store.
    trained = run_cli(home, "flows.train", MLFLOW_TRACKING_URI=env["MLFLOW_TRACKING_URI"])
    assert trained.returncode == 0, trained.stderr[-3000:]
    # the model's input columns, from its signature in the store
    columns = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, mlflow; info = mlflow.models.get_model_info("
            f"'models:/{MODEL}@champion'); print(json.dumps(info.signature.inputs.input_names()))",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    port = free_port(0)
    # the store is the test's own (`_env`), not the checkout's
    argv = shlex.split(DOC_SERVE.replace("5001", str(port)))[1:]
    log = (home / "serve-model.log").open("wb")
    proc = subprocess.Popen(
        [str(BIN / "mlflow"), *argv[1:]],
        cwd=home,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"{url}/ping", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        if proc.poll() is not None:
            pytest.fail((home / "serve-model.log").read_text(errors="replace")[-3000:])
        yield url, json.loads(columns.stdout)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


@pytest.mark.slow
def test_the_champion_scores_rows_posted_to_invocations(
    served_model: tuple[str, list[str]],
) -> None:
    # given: two rows of breast-cancer features, in the model's columns
    from sklearn.datasets import load_breast_cancer

    url, columns = served_model
    frame = load_breast_cancer(as_frame=True).frame
    rows = frame.iloc[[0, 19]].rename(columns=lambda c: c.replace(" ", "_"))
    body = {"dataframe_split": {"columns": columns, "data": rows[columns].values.tolist()}}
    # when
    request = urllib.request.Request(
        f"{url}/invocations",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    # then: one class per row, the dataset's own labels (malignant 0, benign 1)
    assert answer["predictions"] == rows["target"].tolist()


@pytest.mark.slow
def test_a_request_without_the_models_columns_is_rejected(
    served_model: tuple[str, list[str]],
) -> None:
    url, _ = served_model
    request = urllib.request.Request(
        f"{url}/invocations",
        data=json.dumps({"dataframe_split": {"columns": ["nope"], "data": [[1.0]]}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=60)
    assert error.value.code == 400
