"""Find the local servers that `make serve` started, so commands use them unasked.

`make serve` writes `<MLOPS_HOME>/serve/servers.json` with the Prefect API and
MLflow URLs. A command that has no `PREFECT_API_URL` (or tracking URI) of its
own uses them when they answer their health check; otherwise it falls back to
the temporary local server and SQLite.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

SERVERS_FILE = Path("serve") / "servers.json"


def servers_file(home: Path) -> Path:
    return home / SERVERS_FILE


def healthy(url: str, timeout: float = 1.0) -> bool:
    """True when `url` answers 200 within `timeout` seconds."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


def discover(home: Path) -> dict[str, Any] | None:
    """The recorded servers if both answer, else None."""
    path = servers_file(home)
    if not path.is_file():
        return None
    try:
        info = json.loads(path.read_text())
        prefect_api, mlflow_url = info["prefect_api_url"], info["mlflow_url"]
    except (ValueError, KeyError, TypeError):
        return None
    if healthy(f"{prefect_api}/health") and healthy(f"{mlflow_url}/health"):
        return info
    return None


__all__ = ["SERVERS_FILE", "discover", "healthy", "servers_file"]
