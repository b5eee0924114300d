"""deployments.runtime's public face, pinned; its warm-worker client stays light."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import deployments.runtime as runtime

REPO = Path(__file__).resolve().parents[3]


def test_the_public_face_is_pinned_and_every_name_resolves() -> None:
    # then
    assert runtime.__all__ == [
        "Served",
        "alive",
        "begin",
        "discover",
        "end",
        "healthy",
        "local_prefect",
        "locked",
        "platform_settings",
        "server_env",
        "spawn",
        "start",
        "starting_local_prefect",
        "stop",
    ]
    for name in runtime.__all__:
        assert getattr(runtime, name) is not None, name


def test_the_warm_worker_client_imports_nothing_heavy() -> None:
    # when: what `python -m flows.train` imports before it hands itself to the worker
    code = (
        "import json, sys; import deployments.runtime.warm; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # then
    loaded = set(json.loads(out))
    assert not loaded & {"pydantic", "prefect", "mlflow", "libs", "urllib3", "yaml"}
