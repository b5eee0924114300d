"""A bad config or bad arguments are rejected before Prefect and MLflow are imported.

Those two imports cost a command line about 6 CPU-s; a mistake in the config
is found without them (`flows.config` imports neither), so the command says
so in about half the time and leaves nothing behind. One fresh interpreter
runs the three commands' `main` on bad input and reports what it imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cli_support import REPO, cli_env

PROBE = """
import json, sys
from flows.predict import main as predict
from flows.sweep import main as sweep
from flows.train import main as train

folder = sys.argv[1]
codes = {
    "train": train(["--config", folder + "/unknown_key.yaml"]),
    "sweep": sweep(["--config", folder + "/no_factors.yaml"]),
    "predict": predict(
        ["--model", "m", "--input", folder + "/missing.csv", "--output", folder + "/out.csv"]
    ),
}
loaded = sorted(m for m in ("prefect", "mlflow", "tasks.tracking") if m in sys.modules)
print(json.dumps({"codes": codes, "loaded": loaded}))
"""


def test_bad_input_exits_2_without_importing_prefect_or_mlflow(tmp_path: Path) -> None:
    # given: a training config with a typo, a sweep without factors, a missing input
    (tmp_path / "unknown_key.yaml").write_text("model:\n  bogus: 1\n")
    (tmp_path / "no_factors.yaml").write_text(
        "train: {data: {source: iris}}\nfactors: []\n"
        "design: {kind: full_factorial}\nobjective: {metric: accuracy}\n"
    )
    home = tmp_path / "home"
    # when
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path)],
        cwd=REPO,
        env=cli_env(home, temporary_server=False),
        capture_output=True,
        text=True,
        timeout=120,
    )
    # then: each exits 2 with its one line, and neither library was imported
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome == {"codes": {"train": 2, "sweep": 2, "predict": 2}, "loaded": []}
    assert done.stderr.splitlines() == [
        f"error: {tmp_path}/unknown_key.yaml: model.bogus: unknown key",
        f"error: {tmp_path}/no_factors.yaml: factors: at least one factor is needed",
        f"error: file not found: {tmp_path}/missing.csv",
    ]
    assert not home.exists()  # nothing half written: not even the home
