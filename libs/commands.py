"""Commands the platform prints for a person to paste: every word shell-quoted.

A home folder named `$(rm -rf ~)` or holding a backtick is a path like any
other: pasted into a shell, the printed command must open the MLflow UI on it,
never run what the path spells (`shlex.join` quotes each word).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any


def command_line(*words: str) -> str:
    """One command, each word quoted for a POSIX shell only where it needs it."""
    return shlex.join(words)


def mlflow_executable() -> str:
    """`mlflow` of this interpreter's environment, relative when below here (`.venv/bin/mlflow`).

    So the printed command runs the same MLflow as the run, with no venv activated.
    """
    path = Path(sys.executable).parent / "mlflow"
    if not path.exists():
        return "mlflow"
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def mlflow_ui_command(settings: Any) -> str:
    """The command that opens the MLflow UI on the settings' tracking store, quoted.

    `settings`: a `libs.settings.PlatformSettings` (not imported: settings calls this).
    A tracking server is opened in a browser (`open URL`); a local store gets
    `mlflow ui` on it, on the port the run links name.
    """
    uri = settings.resolved_tracking_uri
    if uri.startswith(("http://", "https://")):
        return command_line("open", uri)
    port = settings.mlflow_ui_url.rstrip("/").rsplit(":", 1)[-1]
    port = port if port.isdigit() else "5000"
    return command_line(
        mlflow_executable(),
        "ui",
        "--backend-store-uri",
        uri,
        "--default-artifact-root",
        settings.resolved_artifact_root,
        "--port",
        port,
    )


def restore_run_command(tracking_uri: str, run_id: str) -> str:
    """The command that restores a deleted (not yet purged) MLflow run on that store, quoted.

    `mlflow runs` reads its store from the environment only, hence the assignment.
    """
    store = f"MLFLOW_TRACKING_URI={shlex.quote(tracking_uri)}"
    return f"{store} {command_line(mlflow_executable(), 'runs', 'restore', '--run-id', run_id)}"


__all__ = ["command_line", "mlflow_executable", "mlflow_ui_command", "restore_run_command"]
