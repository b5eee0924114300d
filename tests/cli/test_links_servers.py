"""Every printed link opens what it names on our server, or the command that opens it is printed.

A foreign HTTP server (a tiny `http.server` answering 200 to everything, as
another program on port 5000 would) is never printed as a link; with `make
serve`'s real servers on fallback ports, `flows.train`, `flows.lineage`,
`flows.predict` and `flows.train --reproduce` all print the served port.
Real servers on loopback ports; nothing mocked. `flows.lineage` only reads the
store, and runs its `main` in this process (`cli_support.main_in_process`): a
subprocess cost it about 6 CPU-s of imports, and what it prints does not depend
on the process.
"""

from __future__ import annotations

import http.server
import json
import re
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from deployments.runtime.links import live_flow_run_url, live_run_url, run_page
from deployments.runtime.servers import (
    discover,
    free_port,
    mlflow_answers,
    prefect_answers,
    servers_file,
    start,
    stop,
)
from tests.cli_support import main_in_process, run_cli

CONFIG = "configs/iris_random_forest.yaml"


class _AnswersEverything(http.server.BaseHTTPRequestHandler):
    """Another program: 200 and a page to every GET, whatever it asks for."""

    def do_GET(self) -> None:
        body = b"<html>not the platform's server</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def foreign_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AnswersEverything)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _line(out: str, label: str) -> str:
    match = re.search(rf"^  {label}:\s+(.*)$", out, re.MULTILINE)
    assert match, f"no '{label}' line in:\n{out}"
    return match[1]


def _status(url: str) -> int:
    request = urllib.request.Request(url, headers={"Accept": "text/html"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def test_a_foreign_server_answering_200_is_not_taken_for_ours(
    tmp_path: Path, foreign_server: str
) -> None:
    # given: a run page and a flow-run page on a server that answers 200 to anything
    run_url = f"{foreign_server}/#/experiments/1/runs/0123abcd?workflowType=machine_learning"
    command = "mlflow ui --port 5000"

    # then: neither is a link, and the run page row is the command that opens it
    assert live_run_url(run_url, tmp_path) is None
    assert live_flow_run_url(f"{foreign_server}/runs/flow-run/0f3c") is None
    shown = run_page(run_url, command, tmp_path)
    assert shown.startswith(f"{command}  # ") and run_url in shown
    # and: neither answers as an MLflow or a Prefect API
    assert not mlflow_answers(foreign_server)
    assert not prefect_answers(f"{foreign_server}/api")

    # given: servers.json naming the foreign server as ours
    path = servers_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps({"prefect_api_url": f"{foreign_server}/api", "mlflow_url": foreign_server})
    )
    # then: it is not discovered, so no command uses it
    assert discover(tmp_path) is None


@pytest.mark.slow
def test_every_entry_point_prints_the_served_port_and_never_the_foreign_one(
    tmp_path: Path,
    foreign_server: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given: the configured UI URL is taken by another program, and `make serve`'s
    # servers run on fallback ports
    home = tmp_path / "state"

    def cli(*args: str, served: bool = True) -> subprocess.CompletedProcess[str]:
        return run_cli(
            home,
            *args,
            temporary_server=not served,
            MLOPS_MLFLOW_UI_URL=foreign_server,
            MLOPS_WARM_WORKER="false",
        )

    def lineage(reference: str, served: bool = True) -> tuple[int, str, str]:
        """`flows.lineage REFERENCE` in this process, in the environment `cli` gives."""
        code = main_in_process(
            monkeypatch,
            home,
            "flows.lineage",
            reference,
            MLOPS_MLFLOW_UI_URL=foreign_server,
            MLOPS_WARM_WORKER="false",
            MLOPS_PREFECT_SERVER="" if served else "temporary",
        )
        out, err = capsys.readouterr()
        return code, out, err

    try:
        served = start(home, prefect_port=free_port(0), mlflow_port=free_port(0))
        assert served.mlflow_url and served.mlflow_url != foreign_server
        info = json.loads(servers_file(home).read_text())
        assert info["mlflow_store"] == f"sqlite:///{home.resolve() / 'mlflow.db'}"
        assert discover(home) is not None

        # when: a training run, then its lineage, a batch score and a reproduction
        trained = cli("flows.train", "--config", CONFIG)
        assert trained.returncode == 0, trained.stderr[-3000:]
        run_id = _line(trained.stdout, "MLflow run").split()[0]
        name = _line(trained.stdout, "Registered model").split()[0]
        rows = tmp_path / "rows.csv"
        from libs.datasets import load_bundled

        load_bundled("iris").drop(columns=["target"]).head(20).to_csv(rows, index=False)
        lineage_code, lineage_out, lineage_err = lineage(f"{name}/1")
        scored = cli(
            "flows.predict",
            "--model",
            f"{name}/1",
            "--input",
            str(rows),
            "--output",
            str(tmp_path / "scored.csv"),
        )
        again = cli("flows.train", "--reproduce", f"{name}/1")

        # then: every run page names the served port, and opens there
        assert lineage_code == 0, lineage_err[-3000:]
        assert scored.returncode == 0, scored.stderr[-3000:]
        assert again.returncode == 0, again.stderr[-3000:]
        pages = [
            _line(trained.stdout, "Run page"),
            _line(lineage_out, "MLflow page"),
            _line(scored.stdout, "Run page"),
            _line(again.stdout, "Run page"),
        ]
        for page in pages:
            assert page.startswith(f"{served.mlflow_url}/#/experiments/"), page
            assert foreign_server not in page
            assert _status(page) == 200
        assert run_id in pages[0] and run_id in pages[1]
        # and: the Prefect links name flow runs that our server knows
        for out in (trained.stdout, scored.stdout):
            assert live_flow_run_url(_line(out, "Prefect run")) is not None
    finally:
        stop(home)

    # when: nothing serves the store any more
    after_code, after_out, after_err = lineage(f"{name}/1", served=False)

    # then: the page is the command that opens it, not a link to the foreign server
    assert after_code == 0, after_err[-3000:]
    page = _line(after_out, "MLflow page")
    assert page.startswith(".venv/bin/mlflow ui --backend-store-uri"), page
    assert "# no MLflow UI serves this run now" in page
