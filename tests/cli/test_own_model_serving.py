"""XGBoost and LightGBM champions trained from the command line on the embedded defaults
(`--set model.class=...`), then served with `mlflow models serve`, as serve-a-model shows."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from cli_support import run_cli

from deployments.runtime.servers import free_port

BIN = Path(sys.executable).parent

pytest.importorskip("xgboost", reason="xgboost (the boost extra) is missing")
pytest.importorskip("lightgbm", reason="lightgbm (the boost extra) is missing")


def _serve_and_score(home: Path, model: str, rows: list[list[float]], columns: list[str]) -> list:
    """Start the scoring server on the champion, post the rows, stop it; the predictions."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_", "PREFECT_", "MLFLOW_"))
    }
    env.update(
        MLFLOW_TRACKING_URI=f"sqlite:///{home / 'mlflow.db'}",
        PATH=f"{BIN}:{os.environ['PATH']}",
    )
    port = free_port(0)
    log = (home / f"serve-{model}.log").open("wb")
    proc = subprocess.Popen(
        [
            *(str(BIN / "mlflow"), "models", "serve", "-m", f"models:/{model}@champion"),
            *("--env-manager", "local", "--host", "127.0.0.1", "--port", str(port)),
        ],
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
            pytest.fail((home / f"serve-{model}.log").read_text(errors="replace")[-3000:])
        body = {"dataframe_split": {"columns": columns, "data": rows}}
        request = urllib.request.Request(
            f"{url}/invocations",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return list(json.loads(response.read())["predictions"])
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


@pytest.mark.slow
def test_xgboost_and_lightgbm_champions_are_served(tmp_path: Path) -> None:
    # given: one champion of each, trained on the embedded defaults (breast cancer)
    from libs.datasets import load_bundled

    home = tmp_path / "state"
    for path, params in (
        ("xgboost.XGBClassifier", "{n_estimators: 30, max_depth: 2, n_jobs: 1}"),
        ("lightgbm.LGBMClassifier", "{n_estimators: 30, n_jobs: 1}"),
    ):
        trained = run_cli(
            home,
            "flows.train",
            "--set",
            f"model.class={path}",
            "--set",
            f"model.params={params}",
        )
        assert trained.returncode == 0, trained.stderr[-3000:]
        assert "Champion:         yes" in trained.stdout
    frame = load_bundled("breast_cancer").iloc[[0, 19, 20, 21]]
    columns = [c for c in frame.columns if c != "target"]
    rows = frame[columns].to_numpy().tolist()
    # when
    xgb = _serve_and_score(home, "breast-cancer-xgbclassifier", rows, columns)
    lgbm = _serve_and_score(home, "breast-cancer-lgbmclassifier", rows, columns)
    # then: the dataset's own labels (malignant 0, benign 1)
    assert xgb == frame["target"].tolist()
    assert lgbm == frame["target"].tolist()
