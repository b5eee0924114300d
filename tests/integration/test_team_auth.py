"""Team mode asks who calls: logins on Prefect and MLflow, `@champion` moved by the gate only.

Before (issue 36): `serve start --db postgres` ran its Prefect and MLflow servers
open to anyone who reached their ports; anyone could move a model's `@champion`.
Now the Prefect server checks its auth string and MLflow runs its basic-auth app
with the logins `serve start` made and kept 0600 in the home
(`deployments.runtime.team_auth`): anonymous requests get 401, the reader account
reads and cannot move an alias (403), the platform's account (the gate's) can,
and a command line run finds the logins itself.

One real stack for the module: a local PostgreSQL cluster (as `postgres` when
the suite runs as root), the Prefect and MLflow servers on it, one CLI training
run through them.
"""

from __future__ import annotations

import json
import stat
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import run_cli
from postgres_support import require_postgres, restoring_logins, team_home

from deployments.runtime import team_auth
from deployments.runtime.procs import end
from deployments.runtime.servers import Served, choose_db, free_port, start

MODEL = "team-auth-lr"
pytestmark = pytest.mark.slow


def _call(
    url: str, login: team_auth.Login | None = None, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    """(status, JSON body or text) of a GET, or a POST when `body` is given."""
    headers = {"Content-Type": "application/json"}
    if login is not None:
        headers["Authorization"] = login.header
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


class Stack:
    def __init__(self, home: Path, served: Served, auth: team_auth.TeamAuth) -> None:
        self.home, self.served, self.auth = home, served, auth
        assert served.mlflow_url
        self.api = served.prefect_api_url
        self.mlflow = f"{served.mlflow_url}/api/2.0/mlflow"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    require_postgres()
    with team_home("auth") as home, restoring_logins():  # `start` logs this process in
        served = start(home, free_port(0), free_port(0), db="postgres", timeout=300)
        choose_db(home, "postgres")
        auth = team_auth.load(home)
        assert auth is not None
        yield Stack(home, served, auth)


@pytest.fixture(scope="module")
def trained(stack: Stack) -> Any:
    """One training run from the command line, as a user in team mode runs it."""
    return run_cli(
        stack.home,
        "flows.train",
        *("--set", "data.max_rows=120", "--set", f"tracking.model_name={MODEL}"),
        "--set",
        "tracking.experiment=team-auth",
        timeout=600,
        temporary_server=False,
        MLOPS_WARM_WORKER="false",
    )


def test_the_logins_are_kept_for_the_owner_only(stack: Stack) -> None:
    for path in (team_auth.auth_file(stack.home), stack.home / team_auth.AUTH_DB):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stack.auth.reader.password != stack.auth.platform.password


def test_an_anonymous_request_is_refused(stack: Stack) -> None:
    # given: no login, or a wrong one
    wrong = team_auth.Login(team_auth.PLATFORM_USER, "not-the-password")
    # when
    prefect_anonymous = _call(f"{stack.api}/flows/filter", body={})
    prefect_wrong = _call(f"{stack.api}/flows/filter", wrong, body={})
    mlflow_anonymous = _call(f"{stack.mlflow}/experiments/search?max_results=1")
    mlflow_wrong = _call(f"{stack.mlflow}/experiments/search?max_results=1", wrong)
    # then: refused; health stays open for probes, the right logins get in
    assert prefect_anonymous[0] == 401 and prefect_wrong[0] == 401
    assert mlflow_anonymous[0] == 401 and mlflow_wrong[0] == 401
    assert _call(f"{stack.api}/health")[0] == 200
    assert _call(f"{stack.api}/flows/filter", stack.auth.prefect, body={})[0] == 200
    assert _call(f"{stack.mlflow}/experiments/search?max_results=1", stack.auth.reader)[0] == 200


def test_a_cli_training_run_logs_in_by_itself(stack: Stack, trained: Any) -> None:
    # then: the run went through the team servers with the home's logins
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert f"Registered model: {MODEL} version 1" in trained.stdout
    assert stack.served.mlflow_url in trained.stdout  # the live run page on the team server
    assert not (stack.home / "mlflow.db").exists()  # nothing went to a local SQLite store
    status, found = _call(
        f"{stack.mlflow}/registered-models/alias?name={MODEL}&alias=champion", stack.auth.reader
    )
    assert status == 200 and found["model_version"]["version"] == "1"
    status, runs = _call(f"{stack.api}/flow_runs/filter", stack.auth.prefect, body={"limit": 5})
    assert status == 200 and any(r["state_type"] == "COMPLETED" for r in runs)


def test_only_the_gates_account_moves_the_champion(stack: Stack, trained: Any) -> None:
    # given: the model the gate registered (the platform's account made it: MANAGE on it)
    assert trained.returncode == 0, trained.stderr[-3000:]
    alias = f"{stack.mlflow}/registered-models/alias"
    move = {"name": MODEL, "alias": "champion", "version": "1"}
    query = "resource_type=registered_model&resource_id=" + MODEL
    status, granted = _call(
        f"{stack.served.mlflow_url}/api/3.0/mlflow/users/permissions/get?"
        f"username={team_auth.PLATFORM_USER}&{query}",
        stack.auth.platform,
    )
    assert status == 200, granted
    assert "MANAGE" in json.dumps(granted)
    # when
    by_reader = _call(alias, stack.auth.reader, body=move)
    by_anonymous = _call(alias, body=move)
    by_gate = _call(alias, stack.auth.platform, body=move)
    # then
    assert by_reader[0] == 403, by_reader
    assert by_anonymous[0] == 401, by_anonymous
    assert by_gate[0] == 200, by_gate
    read = _call(f"{alias}?name={MODEL}&alias=champion", stack.auth.reader)
    assert read[0] == 200 and read[1]["model_version"]["version"] == "1"


def test_a_restarted_mlflow_server_keeps_logins_and_permissions(stack: Stack, trained: Any) -> None:
    # given: the MLflow server stopped (its user table stays in the home)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert end(stack.home / "serve", "mlflow")
    # when: `serve start` again
    again = start(stack.home, free_port(0), free_port(0), db="postgres", timeout=300)
    assert again.mlflow_url and "mlflow" in again.began
    mlflow = f"{again.mlflow_url}/api/2.0/mlflow"
    # then: the same logins, the reader still reads and still cannot move the alias
    assert team_auth.load(stack.home) == stack.auth
    move = {"name": MODEL, "alias": "champion", "version": "1"}
    assert _call(f"{mlflow}/registered-models/alias", stack.auth.reader, body=move)[0] == 403
    status, found = _call(
        f"{mlflow}/registered-models/alias?name={MODEL}&alias=champion", stack.auth.reader
    )
    assert status == 200 and found["model_version"]["version"] == "1"


def test_logins_are_made_once_and_a_damaged_file_is_one_line(tmp_path: Path) -> None:
    # given: a home without logins
    home = tmp_path / "home"
    # when
    first, second = team_auth.ensure(home), team_auth.ensure(home)
    # then: made once, kept, owner-only; passwords long enough for MLflow (12+)
    assert first == second
    assert stat.S_IMODE(team_auth.auth_file(home).stat().st_mode) == 0o600
    assert min(len(x.password) for x in (first.prefect, first.platform, first.reader)) >= 12
    # given: the file damaged
    team_auth.auth_file(home).write_text("{not json")
    # when / then: one line naming the file, never a traceback of the JSON parser
    with pytest.raises(RuntimeError, match=r"team-auth\.json cannot be read"):
        team_auth.ensure(home)
