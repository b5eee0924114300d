"""A sweep's terminal under a pseudo-terminal: the bar stays whole, log lines sit above it.

Run as a user runs it, with stdout and stderr on a pty (so rich draws its live
bar), once with `--verbose` (Prefect's and MLflow's lines on screen) and read
back as the raw byte stream: a log line glued to the bar would share a screen
line with it, that is, appear between two line starts together with the bar.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from cli_support import REPO, cli_env

TINY = """
train:
  data: {source: iris, max_rows: 90}
  model: {name: logistic_regression}
  gate: {metric: accuracy, threshold: 0.5}
  tracking: {experiment: pty-sweep, model_name: pty-sweep-model}
factors:
  - {name: model.params.C, type: continuous, scale: log, low: 0.01, high: 10}
design: {kind: full_factorial}
objective: {metric: accuracy}
"""

# Cursor moves and line erases split screen lines as \r and \n do.
_BREAKS = re.compile(r"\r|\n|\x1b\[\d*[ABEFGHJKf]|\x1b\[\d*;\d*[Hf]")
_STYLE = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]|\x1b\][^\x07]*\x07")
_LOG_LINE = re.compile(r"\b(INFO|WARNING|ERROR|DEBUG)\b")
# The bar's own text: its glyphs, or its count ("1/2 points"); a task named
# `find-reusable-points` in a log line is not the bar.
_BAR = re.compile(r"━|\b\d+/(\d+|\?) points")


def run_in_pty(args: list[str], env: dict[str, str], timeout: float = 400) -> tuple[int, str]:
    """Run a command with a pty as its terminal; returns its exit code and everything it drew."""
    leader, follower = pty.openpty()
    os.set_blocking(leader, False)
    env = {**env, "COLUMNS": "120", "LINES": "40", "TERM": "xterm-256color"}
    process = subprocess.Popen(
        args, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower
    )
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the follower side closed: the command has exited
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    code = process.wait(timeout=30)
    os.close(leader)
    return code, b"".join(chunks).decode("utf-8", "replace")


def screen_segments(raw: str) -> list[str]:
    """The drawn text between line starts, with styling removed."""
    return [_STYLE.sub("", part) for part in _BREAKS.split(raw) if _STYLE.sub("", part).strip()]


def test_verbose_sweep_prints_log_lines_above_an_intact_bar(tmp_path: Path) -> None:
    # given
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY)
    env = cli_env(tmp_path / "state")
    # when
    code, raw = run_in_pty(
        [sys.executable, "-m", "flows.sweep", "--config", str(config), "--verbose"], env
    )
    segments = screen_segments(raw)
    # then: it ran, and the bar reached its known total
    assert code == 0, raw[-3000:]
    bars = [s for s in segments if "sweep" in s and "points" in s]
    assert bars and any("2/2" in s for s in bars), segments[-20:]
    assert not any("/?" in s for s in bars)
    # and: log lines were shown, each on a line of its own, never on the bar's line
    logs = [s for s in segments if _LOG_LINE.search(s)]
    assert logs, "verbose shows Prefect's log lines"
    glued = [s for s in segments if _LOG_LINE.search(s) and _BAR.search(s)]
    assert glued == []
    # and: the summary follows on its own lines
    assert any(s.strip() == "Sweep complete." for s in segments)


def test_quiet_sweep_shows_only_the_bar_and_the_summary(tmp_path: Path) -> None:
    # given
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY.replace("pty-sweep-model", "pty-quiet-model"))
    home = tmp_path / "state"
    # when
    code, raw = run_in_pty(
        [sys.executable, "-m", "flows.sweep", "--config", str(config)], cli_env(home)
    )
    segments = screen_segments(raw)
    # then: no log line on screen; they went to the log file the summary names
    assert code == 0, raw[-3000:]
    assert [s for s in segments if _LOG_LINE.search(s)] == []
    logs = list((home / "logs").glob("sweep-*.log"))
    assert len(logs) == 1 and "Finished in state Completed" in logs[0].read_text()
    assert any(s.strip().startswith("Log:") and str(logs[0]) in s for s in segments)
