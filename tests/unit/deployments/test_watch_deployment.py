"""The watch of served traffic as a deployment: deployments/prefect.yaml's `watch-requests/hourly`
is created paused, runs hourly, and its parameters are ones the flow takes.

`tests/integration/test_deployments.py` deploys the whole file on a real server;
this reads the entry itself, fast, and pins the commands the how-to shows to resume it.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
ENTRYPOINT = "flows/runs/watch_requests.py:watch_requests"
# The commands as docs/content/how-to/serve-the-champion.md shows them.
DOC_LS = ".venv/bin/prefect deployment schedule ls watch-requests/hourly"
DOC_RESUME = '.venv/bin/prefect deployment schedule resume watch-requests/hourly "$SCHEDULE_ID"'


def _entry() -> dict[str, Any]:
    data = yaml.safe_load((REPO / "deployments" / "prefect.yaml").read_text())
    [entry] = [d for d in data["deployments"] if d["entrypoint"] == ENTRYPOINT]
    return dict(entry)


def test_the_watch_deployment_is_hourly_and_created_paused() -> None:
    entry = _entry()
    assert entry["schedules"] == [{"cron": "0 * * * *", "timezone": "UTC", "active": False}]
    assert entry["work_pool"] == {"name": "{{ $MLOPS_WORK_POOL }}"}


def test_its_parameters_are_the_flows_and_the_documented_commands_name_it() -> None:
    from prefect.flows import load_flow_from_entrypoint

    # given: the flow the entry points at
    entry = _entry()
    flow: Any = load_flow_from_entrypoint(ENTRYPOINT)
    # then: its parameters validate against the flow's signature
    validated = flow.validate_parameters(entry["parameters"])
    assert validated["model"] == "breast-cancer-logistic-regression"
    assert str(validated["health_url"]).startswith("http://")
    # and the documented commands name this deployment as `prefect` spells it (FLOW/NAME)
    full_name = f"{flow.name}/{entry['name']}"
    assert shlex.split(DOC_LS)[-1] == full_name
    assert shlex.split(DOC_RESUME)[-2] == full_name
    page = (REPO / "docs" / "content" / "how-to" / "serve-the-champion.md").read_text()
    assert DOC_LS in page and DOC_RESUME in page
