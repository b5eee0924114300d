"""The layering contract of `make lint` (import-linter, configured in pyproject.toml)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("libs", "tasks", "flows", "blocks", "deployments", "benchmarks")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy_of_the_code(tmp_path: Path) -> Path:
    for name in PACKAGES:
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_code_keeps_every_contract() -> None:
    # when
    result = _lint(REPO)
    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        (
            "libs/metrics/__init__.py",
            "from flows import cli",
            "libs is not allowed to import flows",
        ),
        ("libs/errors.py", "import prefect", "libs is not allowed to import prefect"),
        ("libs/errors.py", "import mlflow", "libs is not allowed to import mlflow"),
        ("tasks/evaluate.py", "import flows.config.train", "tasks is not allowed to import flows"),
        (
            "flows/runs/sweep.py",
            "from deployments.runtime import servers",
            "flows is not allowed to import deployments.runtime",
        ),
        (
            "tasks/data.py",
            "import deployments.runtime.procs",
            "tasks is not allowed to import deployments.runtime",
        ),
        ("tasks/data.py", "import deployments.apply", "tasks is not allowed to import deployments"),
        ("tasks/report.py", "import benchmarks", "tasks is not allowed to import benchmarks"),
        ("tasks/evaluate.py", "import mlflow", "tasks.evaluate is not allowed to import mlflow"),
        ("flows/train.py", "import mlflow", "flows is not allowed to import mlflow"),
        (
            "flows/config/train.py",
            "import prefect",
            "flows.config is not allowed to import prefect",
        ),
        (
            "flows/config/sweep.py",
            "import tasks.storage",
            "flows.config is not allowed to import tasks",
        ),
    ],
)
def test_an_upward_import_breaks_the_contract(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    # given: a copy of the code with one import that points the wrong way
    root = _copy_of_the_code(tmp_path)
    path = root / module
    path.write_text(path.read_text() + f"\n{line}  # deliberate violation\n")
    # when
    result = _lint(root)
    # then
    assert result.returncode != 0
    assert broken in result.stdout, result.stdout


def test_a_cycle_between_sibling_modules_breaks_the_contract(tmp_path: Path) -> None:
    # given: the process-management modules importing each other
    root = _copy_of_the_code(tmp_path)
    procs = root / "deployments/runtime/procs.py"
    procs.write_text(procs.read_text() + "\nfrom deployments.runtime import servers  # cycle\n")
    # when
    result = _lint(root)
    # then
    assert result.returncode != 0
    assert "No cycles are allowed in deployments.runtime" in result.stdout, result.stdout


def test_a_cycle_inside_the_tracking_package_breaks_the_contract(tmp_path: Path) -> None:
    # given: the client module importing the runs module, which imports the client
    root = _copy_of_the_code(tmp_path)
    client = root / "tasks/tracking/_client.py"
    client.write_text(client.read_text() + "\nfrom tasks.tracking import _runs  # cycle\n")
    # when
    result = _lint(root)
    # then
    assert result.returncode != 0
    assert "No cycles are allowed in tasks.tracking" in result.stdout, result.stdout
