"""Links that open what they name: a URL is printed only when our server answers for it.

Every entry point (the command lines, the warm worker's children, the Python
API's callers) asks here. A server "answers as ours" when it answers the API
call for the very object the link names: MLflow's `runs/get` for the run id,
Prefect's `flow_runs/{id}` for the flow run. Another program on port 5000 (or
another checkout's MLflow, with another store) does not, so its port is never
printed as a link. The candidates are the URL the run was given and the
MLflow server that `make serve` recorded in `servers.json` (on whichever port
it got), so a run made before `make serve`, or while it ran on a fallback
port, is linked on the port that serves it now.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

from deployments.runtime.team_auth import auth_header

SERVERS_FILE = Path("serve") / "servers.json"
_RUN_MARK = "/#/"


def _get_json(url: str, timeout: float = 2.0, headers: dict[str, str] | None = None) -> Any:
    """The JSON body of GET `url` when it answers 200 with JSON, else None.

    `headers`: a login for a team server (`team_auth.auth_header`).
    """
    import urllib.request

    try:
        request = urllib.request.Request(url, headers=headers or {})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if response.status != 200:
                return None
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


def servers_file(home: Path) -> Path:
    """`<home>/serve/servers.json`: the servers `make serve` (or a first run) started."""
    return home / SERVERS_FILE


def recorded(home: Path) -> dict[str, Any]:
    """What servers.json records (empty when nothing is), unchecked."""
    try:
        info = json.loads(servers_file(home).read_text())
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def prefect_answers(api_url: str) -> bool:
    """A Prefect API answers at `api_url`: `/health` says `true` (JSON), not just 200."""
    return _get_json(f"{api_url.rstrip('/')}/health", timeout=1.0) is True


def mlflow_answers(url: str, headers: dict[str, str] | None = None) -> bool:
    """An MLflow tracking API answers at `url` (its experiments search), not just a 200.

    `headers`: the login to ask with (default: this process's, when it has one).
    """
    query = "max_results=1"
    headers = auth_header("mlflow") if headers is None else headers
    api = f"{url.rstrip('/')}/api/2.0/mlflow/experiments/search?{query}"
    # A login is checked with scrypt: seconds on a busy machine when the server's cache is cold.
    body = _get_json(api, timeout=10.0 if headers else 1.0, headers=headers)
    return isinstance(body, dict) and set(body) <= {"experiments", "next_page_token"}


def mlflow_has_run(base: str, run_id: str) -> bool:
    """Whether the MLflow server at `base` serves the run `run_id` (its API says so)."""
    query = urllib.parse.urlencode({"run_id": run_id})
    body = _get_json(
        f"{base.rstrip('/')}/api/2.0/mlflow/runs/get?{query}", headers=auth_header("mlflow")
    )
    try:
        return bool(body["run"]["info"]["run_id"] == run_id)
    except (TypeError, KeyError):
        return False


def prefect_has_flow_run(api_url: str, flow_run_id: str) -> bool:
    """Whether the Prefect API at `api_url` knows the flow run `flow_run_id`."""
    url = f"{api_url.rstrip('/')}/flow_runs/{urllib.parse.quote(flow_run_id)}"
    body = _get_json(url, headers=auth_header("prefect"))
    return isinstance(body, dict) and body.get("id") == flow_run_id


def served_mlflow_url(home: Path) -> str | None:
    """The MLflow server `make serve` recorded for `home`, when it answers as an MLflow API."""
    url = recorded(home).get("mlflow_url")
    return url if isinstance(url, str) and mlflow_answers(url) else None


def _split_run_url(run_url: str) -> tuple[str, str, str] | None:
    """`BASE/#/experiments/E/runs/R?q` -> (BASE, "#/experiments/E/runs/R?q", R)."""
    base, mark, page = run_url.partition(_RUN_MARK)
    if not mark:
        return None
    path = page.split("?", 1)[0].rstrip("/")
    parts = path.split("/")
    if len(parts) < 4 or parts[-2] != "runs":
        return None
    return base.rstrip("/"), page, parts[-1]


def live_run_url(run_url: str, home: Path | None) -> str | None:
    """`run_url` on a server that serves that run now, or None when none does.

    Tried: the URL's own server, then `make serve`'s recorded MLflow server.
    """
    split = _split_run_url(run_url)
    if split is None:
        return None
    base, page, run_id = split
    candidates = [base]
    if home is not None:
        served = recorded(home).get("mlflow_url")
        if isinstance(served, str) and served.rstrip("/") != base:
            candidates.append(served.rstrip("/"))
    for candidate in candidates:
        if mlflow_has_run(candidate, run_id):
            return f"{candidate}{_RUN_MARK}{page}"
    return None


def live_flow_run_url(flow_run_url: str) -> str | None:
    """`flow_run_url` when the Prefect server it names knows that flow run, else None."""
    base, mark, flow_run_id = flow_run_url.rstrip("/").rpartition("/runs/flow-run/")
    if not mark or not flow_run_id:
        return None
    return flow_run_url if prefect_has_flow_run(f"{base}/api", flow_run_id) else None


def run_page(run_url: str, ui_command: str, home: Path | None) -> str:
    """What a `Run page:` row says: the live link, else the command that opens it.

    The command comes first, so the value pasted into a shell runs it (the rest
    is a comment naming the page to open once it runs).
    """
    live = live_run_url(run_url, home)
    if live is not None:
        return live
    return f"{ui_command}  # no MLflow UI serves this run now; this opens it at {run_url}"


__all__ = [
    "SERVERS_FILE",
    "live_flow_run_url",
    "live_run_url",
    "mlflow_answers",
    "mlflow_has_run",
    "prefect_answers",
    "prefect_has_flow_run",
    "recorded",
    "run_page",
    "served_mlflow_url",
    "servers_file",
]
