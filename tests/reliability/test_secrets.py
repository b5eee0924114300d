"""The Prefect API key never reaches MLflow, the reports, Prefect's logs or the terminal.

AWS keys are scanned for after a full run on S3 storage in
tests/flows/test_s3_storage.py; this is the same check for PREFECT_API_KEY,
through the command line with Prefect's temporary server.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow import MlflowClient
from reliability_support import files_under, run_cli, store_uri

API_KEY = "pnu_relTEST0canary0Xq7Zk2Lw9Vb4Nd8Hs3Jf6Gp1Mt5"


@pytest.mark.slow
def test_prefect_api_key_appears_nowhere_after_a_full_run(tmp_path: Path) -> None:
    # given: a user whose environment holds a Prefect API key
    home = tmp_path / "home"
    # when: a full training run through the command line
    result = run_cli(
        home,
        "flows.train",
        "--set",
        "data.source=iris",
        "--set",
        "tracking.model_name=secret-scan",
        own_server=True,  # Prefect's database under the home, scanned below
        PREFECT_API_KEY=API_KEY,
    )
    # then: it ran and registered a model
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Registered model: secret-scan version 1" in result.stdout
    # and: the key is in no MLflow parameter, tag or model-version tag
    client = MlflowClient(store_uri(home))
    experiment = client.get_experiment_by_name("training")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    logged = [*run.data.params.values(), *run.data.tags.values()]
    (version,) = client.search_model_versions("name = 'secret-scan'")
    logged += [*version.tags.values()]
    assert len(logged) > 20
    assert not [text for text in logged if API_KEY in text]
    # and: in no byte of any file under the home: MLflow's store and artifacts, the data
    # snapshot and report, and Prefect's database (flow-run logs, artifacts, parameters)
    files = files_under(home)
    names = {p.name for p in files}
    assert {"mlflow.db", "prefect.db", "report.html", "MLmodel"} <= names
    assert not [p for p in files if API_KEY.encode() in p.read_bytes()]
    # and: not on the terminal either
    assert API_KEY not in result.stdout + result.stderr
