"""`flows.predict` takes the output flags the other commands take, and prints no dead link."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_predict_cli import register_champion
from tests.cli_support import run_cli


@pytest.mark.slow
def test_no_progress_draws_no_bar_and_the_run_page_is_the_command(tmp_path: Path) -> None:
    # given: a champion, and nothing serving MLflow
    home = tmp_path / "state"
    snapshot = register_champion(home, "iris-lr")

    def score(*flags: str) -> tuple[str, str]:
        out = tmp_path / f"scored{len(flags)}.csv"
        args = ["--model", "iris-lr", "--input", str(snapshot), "--output", str(out), *flags]
        result = run_cli(home, "flows.predict", *args)
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout, result.stderr

    # when: scored with the bar, then with --no-progress
    _, with_bar = score()
    out, without_bar = score("--no-progress")

    # then: the bar is drawn only without the flag
    assert "scoring" in with_bar
    assert "scoring" not in without_bar
    # and: no MLflow UI serves the run, so its page is the command that opens it
    page = next(line for line in out.splitlines() if line.startswith("  Run page:"))
    assert ".venv/bin/mlflow ui --backend-store-uri" in page
    assert "# no MLflow UI serves this run now; this opens it at http://127.0.0.1:5000/" in page
