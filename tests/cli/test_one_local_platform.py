"""One local platform: the command line, `make serve` and the Python API see one store.

Real servers on free loopback ports, a real `python -m flows.train` and a fresh
interpreter calling `flows.api`; nothing mocked.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import urllib.parse
import urllib.request
from pathlib import Path

from deployments.runtime.servers import discover, free_port, start, stop

REPO = Path(__file__).resolve().parents[2]
CONFIG = "configs/iris_random_forest.yaml"
API_RUN = textwrap.dedent(
    """
    import json, sys
    from flows.api import predict, train

    summary = train(sys.argv[1], overrides=["model.params.n_estimators=20"])
    batch = predict(model=summary.model_name, input=sys.argv[2], output=sys.argv[3])
    print(json.dumps({"run_id": summary.run_id, "run_url": summary.run_url,
                      "version": summary.version, "batch_run_id": batch.run_id,
                      "batch_url": batch.run_url}))
    """
)


def _env(home: Path, ui_port: int) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_", "PREFECT_", "MLFLOW_"))
    }
    env.update(
        MLOPS_HOME=str(home),
        MLOPS_MLFLOW_UI_URL=f"http://127.0.0.1:{ui_port}",
        MLOPS_WARM_WORKER="false",
        PYTHONPATH=str(REPO),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    return env


def _run(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )


def _get(url: str, page: bool = False) -> tuple[int, dict]:
    """GET `url`; `page`: as a browser opens a link (the UIs serve their pages to HTML requests)."""
    headers = {"Accept": "text/html,application/xhtml+xml"} if page else {}
    with urllib.request.urlopen(
        urllib.request.Request(url, headers=headers), timeout=30
    ) as response:
        body = response.read()
        try:
            return response.status, json.loads(body)
        except ValueError:
            return response.status, {}


def _line(out: str, label: str) -> str:
    match = re.search(rf"^  {label}:\s+(.*)$", out, re.MULTILINE)
    assert match, f"no '{label}' line in:\n{out}"
    return match[1]


def test_runs_before_and_during_serve_share_one_store_and_every_printed_link_opens(
    tmp_path: Path,
) -> None:
    # given: a local Prefect server on a non-default port, as a first run starts it,
    # and no MLflow server: a command-line run logs to SQLite under the home
    home = tmp_path / "state"
    ui_port = free_port(0)
    env = _env(home, ui_port)
    prefect_port = free_port(0)
    try:
        start(home, prefect_port=prefect_port, mlflow_port=None)
        trained = _run(env, "-m", "flows.train", "--config", CONFIG)
        assert trained.returncode == 0, trained.stderr[-3000:]
        run_id = _line(trained.stdout, "MLflow run").split()[0]
        run_page = _line(trained.stdout, "Run page")
        name = _line(trained.stdout, "Registered model").split()[0]
        prefect_run = _line(trained.stdout, "Prefect run")

        # then: with nothing serving it, no link: the command that brings it up, then the page
        command, _, note = run_page.partition("  # ")
        page_url = note.rsplit(" ", 1)[-1]
        url = f"http://127.0.0.1:{ui_port}/#/experiments/"
        assert page_url.startswith(url) and run_id in page_url
        assert command.startswith(
            f".venv/bin/mlflow ui --backend-store-uri sqlite:///{home.resolve()}"
        )
        assert command.endswith(f"--port {ui_port}")
        # and: the Prefect link names this server's flow run, and it opens
        assert prefect_run.startswith(f"http://127.0.0.1:{prefect_port}/runs/flow-run/")
        assert _get(prefect_run, page=True)[0] == 200
        flow_run_id = prefect_run.rsplit("/", 1)[1]
        api = f"http://127.0.0.1:{prefect_port}/api"
        assert _get(f"{api}/flow_runs/{flow_run_id}")[1]["id"] == flow_run_id
        # and: the Prefect UI is told this server's port, not 4200
        assert _get(f"http://127.0.0.1:{prefect_port}/ui-settings")[1]["api_url"] == api

        # when: `make serve` starts MLflow, on the port the links named
        served = start(home, prefect_port=prefect_port, mlflow_port=ui_port)
        assert served.mlflow_url == f"http://127.0.0.1:{ui_port}"
        assert served.began == ("mlflow",)

        # then: the earlier run and model are there, and the printed link opens
        rest = f"{served.mlflow_url}/api/2.0/mlflow"
        status, body = _get(f"{rest}/runs/get?run_id={run_id}")
        assert status == 200 and body["run"]["info"]["run_id"] == run_id
        _, model = _get(f"{rest}/registered-models/get?name={urllib.parse.quote(name)}")
        assert [v["version"] for v in model["registered_model"]["latest_versions"]] == ["1"]
        assert _get(page_url, page=True)[0] == 200

        # when: a fresh interpreter trains and scores through the Python API
        rows = tmp_path / "rows.csv"
        from libs.datasets import load_bundled

        load_bundled("iris").drop(columns=["target"]).head(30).to_csv(rows, index=False)
        out = tmp_path / "scored.csv"
        api_run = _run(env, "-c", API_RUN, CONFIG, str(rows), str(out))
        assert api_run.returncode == 0, api_run.stderr[-3000:]
        result = json.loads(api_run.stdout.strip().splitlines()[-1])

        # then: both land in the served store, the registry goes on at version 2
        assert result["version"] == "2"
        for key in ("run_id", "batch_run_id"):
            assert _get(f"{rest}/runs/get?run_id={result[key]}")[0] == 200
        assert result["run_url"].startswith(served.mlflow_url)
        assert _get(result["run_url"], page=True)[0] == 200
        assert len(pd_rows(out)) == 30
        assert discover(home) is not None
    finally:
        stop(home)

    # and: with the servers stopped, the command line's store holds all of it
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{home.resolve()}/mlflow.db")
    for key in ("run_id", "batch_run_id"):
        assert client.get_run(result[key]).info.status == "FINISHED"
    assert client.get_run(run_id).info.status == "FINISHED"


def pd_rows(path: Path) -> list[str]:
    return path.read_text().strip().splitlines()[1:]
